"""Honest names for GCJ-02 and BD-09 coordinates in files, and reading them back.

GCJ-02 and BD-09 have no EPSG code: they are WGS84 with a published, non-linear
obfuscation shift (hundreds of metres in Beijing). Labelling shifted coordinates
``EPSG:4326``/CRS84 makes a GIS place them that far off without a word, so exports
name them as a geographic CRS of their own: a datum called ``GCJ_02``/``BD_09`` on the
WGS 84 ellipsoid, lon/lat axes. GDAL, QGIS and pyproj read it, show its name and never
equate it with WGS 84 (no EPSG code, another datum); our import recognises it and
shifts the coordinates back exactly. Spreadsheets carry the system in the coordinate
columns' names (``lon_gcj02``, ``lat_gcj02``, ``wkt_bd09``).
"""

from __future__ import annotations

from pyproj import CRS

from geo.crs import CoordSystem

__all__ = ["OFFSET_SYSTEMS", "column_suffix", "offset_crs", "offset_of", "offset_of_columns"]

OFFSET_SYSTEMS = (CoordSystem.GCJ02, CoordSystem.BD09)
_NAMES = {CoordSystem.GCJ02: ("GCJ-02", "GCJ_02"), CoordSystem.BD09: ("BD-09", "BD_09")}


def offset_crs(system: CoordSystem) -> CRS:
    """Return the CRS that names ``system`` (GCJ-02 or BD-09) in an exported file."""
    name, datum = _NAMES[system]
    return CRS.from_wkt(
        f'GEOGCS["{name}",DATUM["{datum}",SPHEROID["WGS 84",6378137,298.257223563]],'
        'PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433],'
        'AXIS["Longitude",EAST],AXIS["Latitude",NORTH]]'
    )


def offset_of(crs: CRS | None) -> CoordSystem | None:
    """Return GCJ-02 or BD-09 if ``crs`` is the label ``offset_crs`` writes, else None.

    A shapefile's ``.prj`` comes back from GDAL as ``GCS_GCJ-02`` with datum
    ``D_GCJ_02``; a GeoPackage keeps the names as written.
    """
    if crs is None or not crs.is_geographic or crs.to_epsg() is not None:
        return None
    datum = crs.datum.name.upper().removeprefix("D_") if crs.datum is not None else ""
    for system, (_, datum_name) in _NAMES.items():
        if datum == datum_name:
            return system
    return None


def column_suffix(system: CoordSystem) -> str:
    """Return what coordinate columns of ``system`` end with ('' for WGS84)."""
    return "" if system is CoordSystem.WGS84 else f"_{system.value}"


def offset_of_columns(*columns: str | None) -> CoordSystem | None:
    """Return the system the coordinate columns' names declare (``lon_gcj02``), if any."""
    for system in OFFSET_SYSTEMS:
        if any(c and c.lower().endswith(column_suffix(system)) for c in columns):
            return system
    return None
