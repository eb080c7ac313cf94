"""The demo city: deterministic generation, an exact jurisdiction tiling, a complete load.

The database tests use a database of this module's own: the run's shared one is changed
by other tests (extra districts, moved units), and here the load itself is under test.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
import shapely
from sqlalchemy import Engine, text

from geo.hexes import cell_of_point
from geo.measure import distance_m
from layers.crypto.keys import KeyRing
from layers.database import make_engine
from layers.demo.generate import generate_city
from layers.demo.load import database_is_empty, load_demo_city
from layers.errors import Conflict
from layers.settings import DatabaseSettings, Settings
from tests.conftest import throwaway_database
from tests.utils.city import DEMO_SEED, DEMO_UNITS
from tests.utils.derived import stale_grams

REFERENCE = datetime(2026, 11, 24, 4, 0, tzinfo=UTC)
KEYS = KeyRing.generate()
POINT_TABLES = ("units", "rail_stations", "bus_stations", "incidents", "vehicles")
AREA_TABLES = ("districts", "precincts", "parks", "construction_sites", "key_station_areas")


@pytest.fixture(scope="module")
def demo_engine(server_url: str, migrated_template: str) -> Iterator[Engine]:
    """An engine on a fresh migrated database holding the demo city of the test run."""
    with throwaway_database(server_url, migrated_template) as url:
        engine = make_engine(Settings(database=DatabaseSettings(url=url)))
        assert database_is_empty(engine)
        load_demo_city(
            engine, units=DEMO_UNITS, seed=DEMO_SEED, reference_time=REFERENCE, keys=KEYS
        )
        yield engine
        engine.dispose()


def _scalar(engine: Engine, sql: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar_one()


def test_generation_is_deterministic() -> None:
    first = generate_city(DEMO_UNITS, DEMO_SEED, REFERENCE)
    again = generate_city(DEMO_UNITS, DEMO_SEED, REFERENCE)
    other = generate_city(DEMO_UNITS, DEMO_SEED + 1, REFERENCE)
    assert [(t.table, len(t)) for t in first.layers] == [(t.table, len(t)) for t in again.layers]
    units, units_again = first.layer("units"), again.layer("units")
    assert units.columns["name"][0] == units_again.columns["name"][0]
    assert shapely.equals_exact(units.geom, units_again.geom, tolerance=0).all()
    assert np.array_equal(units.columns["credit_code"], units_again.columns["credit_code"])
    assert not shapely.equals_exact(units.geom[:10], other.layer("units").geom[:10]).all()


def test_generated_layers_are_plausible() -> None:
    city = generate_city(DEMO_UNITS, DEMO_SEED, REFERENCE)
    units = city.layer("units")
    assert len(units) == DEMO_UNITS
    assert units.columns["external_id"][0] == "U0000001"
    assert 0.02 < np.mean(units.columns["is_key_unit"]) < 0.10
    assert np.mean(np.asarray(units.columns["category"]) == "company") > 0.4
    plates = city.layer("vehicles").columns["plate"]
    assert len(set(plates)) == len(plates)
    occurred = np.asarray(city.layer("incidents").columns["occurred_at"])
    reference = np.datetime64(REFERENCE.replace(tzinfo=None), "s")
    assert (occurred <= reference).all()
    assert (occurred >= reference - np.timedelta64(7, "D")).all()
    for layer in city.layers:
        assert shapely.is_valid(layer.geom).all(), layer.table


def test_rail_stations_follow_their_lines() -> None:
    city = generate_city(DEMO_UNITS, DEMO_SEED, REFERENCE)
    stations = city.layer("rail_stations")
    xy = shapely.get_coordinates(stations.geom)
    assert len(city.rail_lines) >= 10
    for line, order in city.rail_lines.items():
        lon, lat = xy[order, 0], xy[order, 1]
        gaps = distance_m(lon[:-1], lat[:-1], lon[1:], lat[1:])
        assert gaps.min() >= 500 and gaps.max() <= 3000, line
        assert all(line in stations.columns["lines"][k] for k in order)
    transfers = [lines for lines in stations.columns["lines"] if len(lines) > 1]
    assert len(transfers) >= 10
    # the base map draws each line in its colour through its stations (hubs merge within 0.7 km)
    rail = city.layer("rail_lines")
    assert sorted(rail.columns["name"]) == sorted(city.rail_lines)
    for name, colour, line in zip(rail.columns["name"], rail.columns["colour"], rail.geom,
                                  strict=True):  # fmt: skip
        assert len(colour) == 7 and colour.startswith("#"), name
        order = city.rail_lines[name]
        assert max(line.distance(stations.geom[k]) for k in order) < 0.008, name
        assert shapely.get_geometry(line, 0).is_closed == (name in ("2号线", "10号线")), name


def test_precincts_tile_the_city(demo_engine: Engine) -> None:
    assert _scalar(demo_engine, "SELECT count(*) FROM districts") == 16
    assert 170 <= _scalar(demo_engine, "SELECT count(*) FROM precincts") <= 190
    for table in AREA_TABLES:
        bad = f"SELECT count(*) FROM {table} WHERE NOT ST_IsValid(geom)"
        assert _scalar(demo_engine, bad) == 0, table
    with demo_engine.connect() as conn:
        gap, union, total = conn.execute(text("""
            WITH p AS (SELECT ST_Union(geom) AS g, sum(ST_Area(geom::geography)) AS s
                       FROM precincts),
                 d AS (SELECT ST_Union(geom) AS g FROM districts)
            SELECT ST_Area(ST_SymDifference(p.g, d.g)::geography),
                   ST_Area(p.g::geography), p.s
            FROM p, d
        """)).one()  # fmt: skip
    assert gap < 1.0
    assert abs(total - union) < 1.0
    overlaps = """
        SELECT count(*) FROM precincts AS a JOIN precincts AS b
        ON a.id < b.id AND a.geom && b.geom AND ST_Relate(a.geom, b.geom, '2********')
    """
    assert _scalar(demo_engine, overlaps) == 0
    nested = """
        SELECT count(*) FROM precincts AS p JOIN districts AS d ON d.id = p.district_id
        WHERE p.parent_code <> d.code
    """
    assert _scalar(demo_engine, nested) == 0


@pytest.mark.parametrize("table", ["units", "incidents"])
def test_features_carry_their_jurisdiction(demo_engine: Engine, table: str) -> None:
    missing = f"SELECT count(*) FROM {table} WHERE precinct_id IS NULL OR district_id IS NULL"
    assert _scalar(demo_engine, missing) == 0
    mismatched = f"""
        SELECT count(*) FROM {table} AS t JOIN precincts AS p ON p.id = t.precinct_id
        WHERE p.district_id <> t.district_id OR NOT ST_Contains(p.geom, t.geom)
    """
    assert _scalar(demo_engine, mismatched) == 0


def test_h3_cells_are_filled(demo_engine: Engine) -> None:
    for table in POINT_TABLES + AREA_TABLES:
        assert _scalar(demo_engine, f"SELECT count(*) FROM {table} WHERE h3_cell IS NULL") == 0
    for table in AREA_TABLES:
        empty = f"SELECT count(*) FROM {table} WHERE cardinality(h3_cover) IS NULL"
        assert _scalar(demo_engine, empty) == 0, table
    with demo_engine.connect() as conn:
        sample = conn.execute(
            text("SELECT ST_X(geom), ST_Y(geom), h3_cell FROM units ORDER BY id LIMIT 200")
        ).all()
    assert [cell for _, _, cell in sample] == [cell_of_point(x, y) for x, y, _ in sample]


def test_searched_texts_carry_their_grams(demo_engine: Engine) -> None:
    with demo_engine.connect() as conn:
        for table in POINT_TABLES + AREA_TABLES:
            assert stale_grams(conn, table) == [], table


def test_a_second_load_is_refused_unless_replacing(demo_engine: Engine) -> None:
    assert not database_is_empty(demo_engine)
    with pytest.raises(Conflict):
        load_demo_city(demo_engine, units=100, seed=DEMO_SEED, keys=KEYS)
    assert _scalar(demo_engine, "SELECT count(*) FROM units") == DEMO_UNITS
    report = load_demo_city(demo_engine, units=100, seed=DEMO_SEED, replace=True, keys=KEYS)
    assert report.counts["units"] == 100
    assert _scalar(demo_engine, "SELECT count(*) FROM units") == 100
    assert _scalar(demo_engine, "SELECT min(id) FROM units") == 1
