"""Mapbox Vector Tiles from PostGIS: SQL builders, low-zoom aggregation, cache, TileJSON."""
