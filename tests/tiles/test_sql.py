"""The tile SQL builders: index-friendly selection, exact clip, registry attributes."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql

from layers.accounts.scope import CITY, Scope, ScopeKind
from layers.features.cql import cql2_clause
from layers.features.grams import like_grams
from layers.features.registry import get_layer
from tiles.clusters import CLUSTER_SHIFT
from tiles.render import TileAddress, aggregates_at, layer_query, tile_statement
from tiles.settings import TileSettings
from tiles.sql import TileGeometry, tile_attributes

SETTINGS = TileSettings()


def sql(layer: str, z: int, scope: Scope = CITY, where: str = "") -> str:
    spec = get_layer(layer)
    filters = [cql2_clause(spec, where)] if where else []
    query: Any = layer_query(spec, z, scope, filters, SETTINGS)
    return str(query.compile(dialect=postgresql.dialect())).replace("\n", " ")


def test_point_layers_select_on_the_indexed_geometry_and_encode_the_stored_mercator() -> None:
    text = sql("units", 14)
    assert "units.geom && ST_Transform(ST_MakeEnvelope(" in text
    assert "ST_Transform(units.geom," not in text
    assert "ST_AsMVTGeom(units.geom_3857, ST_MakeEnvelope(" in text
    assert "ORDER BY" not in text and "LIMIT" in text
    assert "ST_AsMVT(features, " in text


def test_polygon_layers_transform_the_envelope_not_the_indexed_column() -> None:
    text = sql("parks", 14)
    assert "parks.geom && ST_Transform(ST_MakeEnvelope(" in text
    assert "ST_AsMVTGeom(ST_Transform(parks.geom, " in text


def test_one_statement_per_zoom_placed_by_bind_parameters() -> None:
    text = sql("units", 14)
    assert "ST_MakeEnvelope(%(tile_minx)s, %(tile_miny)s, %(tile_maxx)s, %(tile_maxy)s" in text
    assert "ST_MakeEnvelope(%(margin_minx)s" in text
    units = (get_layer("units"),)
    first = tile_statement(units, 14, CITY, "risk_level >= 3", SETTINGS)
    assert first is tile_statement(units, 14, CITY, " risk_level >= 3", SETTINGS)
    assert first is not tile_statement(units, 15, CITY, "risk_level >= 3", SETTINGS)
    assert first is not tile_statement(units, 14, Scope(ScopeKind.DISTRICT, 3), None, SETTINGS)
    assert first is not None and first.params(TileAddress(14, 13490, 6208)) == {
        **first.values, **TileGeometry.of(14, 13490, 6208, extent=4096, buffer=64).params(),
        "cell_x0": 13490 << CLUSTER_SHIFT, "cell_y0": 6208 << CLUSTER_SHIFT,
    }  # fmt: skip


def test_statements_are_compiled_once_to_driver_text_with_their_literals_bound() -> None:
    units = (get_layer("units"),)
    statement = tile_statement(units, 14, CITY, "risk_level IN (2, 3) AND name LIKE 'a%'", SETTINGS)
    assert statement is not None
    assert "%(tile_minx)s" in statement.sql and "%(cell_x0)s" not in statement.sql
    assert "units.risk_level IN (%(risk_level_1_1)s, %(risk_level_1_2)s)" in statement.sql
    assert "'a%'" not in statement.sql  # a parameter, not spelled into the text
    values = list(statement.values.values())
    assert all(v in values for v in ("a%", 2, 3, 20_000))
    assert like_grams("a%") in values  # the pattern's start, looked up in the name grams
    assert not {"tile_minx", "margin_minx"} & set(statement.values)  # given per tile


def test_statements_reading_clusters_also_read_whether_they_await_a_refresh() -> None:
    units = (get_layer("units"),)
    clustered = tile_statement(units, 10, CITY, None, SETTINGS)
    assert clustered is not None and clustered.refresh == units
    assert "FROM tile_clusters" in clustered.sql and "FROM tile_cluster_dirty" in clustered.sql
    computed = tile_statement(units, 10, CITY, "risk_level > 2", SETTINGS)
    assert computed is not None and computed.refresh == ()
    assert "tile_cluster_dirty" not in computed.sql


def test_selection_is_buffered_and_clip_is_exact() -> None:
    tile = TileGeometry.of(14, 13490, 6208, extent=4096, buffer=64)
    width = tile.bounds[2] - tile.bounds[0]
    assert tile.margin_bounds[0] == tile.bounds[0] - width / 64
    assert tile.margin_bounds[3] == tile.bounds[3] + width / 64


def test_low_zooms_of_dense_point_layers_aggregate() -> None:
    units = get_layer("units")
    assert aggregates_at(units, 11) and not aggregates_at(units, 12)
    assert not aggregates_at(get_layer("parks"), 3)
    stored = sql("units", 10, Scope(ScopeKind.DISTRICT, 3))
    assert "FROM tile_clusters" in stored and "units" not in stored.replace("'units'", "")
    assert "tile_clusters.district_id = " in stored
    assert "max(tile_clusters.maxima[" in stored and "GROUP BY tile_clusters.cx" in stored
    for scope, where in ((CITY, "risk_level > 2"), (Scope(ScopeKind.UNIT, 5), "")):
        computed = sql("units", 10, scope, where)  # clusters hold neither
        assert "tile_clusters" not in computed and "GROUP BY floor(" in computed
        assert "max(units.risk_level) AS max_risk_level" in computed


def test_tile_attributes_are_those_the_registry_marks() -> None:
    names = [c.name for c in tile_attributes(get_layer("units"))]
    assert names == ["name", "category", "risk_level", "is_key_unit"]
    assert "array_to_string" in str(tile_attributes(get_layer("rail_stations"))[-1])


def test_the_buffered_box_stops_at_the_edge_of_the_world() -> None:
    """A buffer past 180° east came back in WGS84 as -180°: the east's tiles were empty."""
    east = TileGeometry.of(2, 3, 1, extent=4096, buffer=64)
    world = 20037508.342789244
    assert east.margin_bounds[2] == world and east.margin_bounds[0] < east.bounds[0]
    whole = TileGeometry.of(0, 0, 0, extent=4096, buffer=64)
    assert whole.margin_bounds == (-world, -world, world, world)
