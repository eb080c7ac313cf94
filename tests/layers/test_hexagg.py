"""Hexbins: each feature in the cell holding its point (as h3 says), stored or counted."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from alembic import command
from fastapi.testclient import TestClient
from h3.api import basic_int
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from layers.accounts.roles import Role
from layers.accounts.scope import SYSTEM
from layers.accounts.service import Jurisdiction
from layers.features import hexagg
from layers.features.query import FeatureQuery
from layers.features.registry import LayerSpec, all_layers, get_layer
from layers.features.spatial import hexbins
from layers.migrate import alembic_config
from tests.utils.users import bearer, make_user

UNITS = get_layer("units")
AGGREGATED = [spec for spec in all_layers() if hexagg.aggregated(spec)]
SNAPSHOT = text(
    "SELECT layer, resolution, cell, district_id, precinct_id, coarse, n, sums FROM hex_counts"
    " ORDER BY 1, 2, 3, 4, 5, 6"
)
RESOLUTIONS = range(10)  # every resolution the API serves
CITY_BOX = (115.4, 39.4, 117.6, 41.1)
Bins = dict[int, tuple[int, int | None]]


def counted(session: Session, spec: LayerSpec, resolution: int, sum_of: str | None,
            where: str = "TRUE") -> Bins:  # fmt: skip
    """Bin the features' points with ``h3.latlng_to_cell`` (the oracle)."""
    value = sum_of or "NULL"
    rows = session.execute(text(
        f"SELECT ST_X(geom), ST_Y(geom), {value} FROM {spec.table}"
        f" WHERE h3_cell IS NOT NULL AND {where}"
    )).all()  # fmt: skip
    bins: dict[int, list[int]] = {}
    for lon, lat, s in rows:
        acc = bins.setdefault(basic_int.latlng_to_cell(lat, lon, resolution), [0, 0])
        acc[0] += 1
        acc[1] += s or 0
    return {cell: (n, s if sum_of else None) for cell, (n, s) in bins.items()}


def stored(session: Session, spec: LayerSpec, resolution: int, sum_of: str | None) -> Bins:
    """Return the domain's answer for a city-wide actor without filters (the stored path)."""
    bins = hexbins(session=session, spec=spec, actor=SYSTEM, resolution=resolution,
                   query=FeatureQuery(), sum_of=sum_of)  # fmt: skip
    assert _pending(session, spec) == 0  # the stored path ran and took the dirty boxes
    return {b.cell: (b.count, b.total) for b in bins}


def _pending(session: Session, spec: LayerSpec) -> int:
    d = hexagg.HexCountDirty.__table__.c
    return int(session.scalar(select(func.count()).where(d.layer == spec.id)) or 0)


def assert_exact(factory: sessionmaker[Session], spec: LayerSpec = UNITS) -> None:
    """Assert stored and counted bins agree at every resolution, for every sum."""
    sums: list[str | None] = [a.name for a in hexagg.summed(spec)] or [None]
    with factory() as session, session.begin():
        for resolution in RESOLUTIONS:
            for sum_of in sums:
                expected = counted(session, spec, resolution, sum_of)
                assert stored(session, spec, resolution, sum_of) == expected, (resolution, sum_of)


@pytest.mark.parametrize("spec", AGGREGATED, ids=lambda s: s.id)
def test_after_the_demo_load_stored_bins_are_exact(
    spec: LayerSpec, session_factory: sessionmaker[Session], city: None
) -> None:
    assert_exact(session_factory, spec)
    with session_factory() as session:
        assert counted(session, spec, 7, None)  # the layer is not empty


def _hexbins_http(client: TestClient, headers: dict[str, str], query: str = "resolution=8") -> Bins:
    response = client.get(f"/api/layers/units/hexbins?{query}&sum=risk_level", headers=headers)
    assert response.status_code == 200, response.text
    return {
        basic_int.str_to_int(f["properties"]["h3"]):
            (f["properties"]["count"], f["properties"]["sum"])
        for f in response.json()["features"]
    }  # fmt: skip


def _counted_units(
    factory: sessionmaker[Session], where: str = "TRUE", resolution: int = 8
) -> Bins:
    with factory() as session:
        return counted(session, UNITS, resolution, "risk_level", where)


@pytest.mark.parametrize("boxed", [True, False], ids=["counted-in-a-box", "stored"])
def test_every_unit_counts_in_the_cell_holding_it_at_every_resolution(
    boxed: bool, client: TestClient, session_factory: sessionmaker[Session], city: None
) -> None:
    admin = bearer(client, make_user(session_factory, Role.ADMIN))
    west, south, east, north = CITY_BOX
    # the box holds the whole demo city (other tests add units far away, in a tile of their own)
    inside = f"geom && ST_MakeEnvelope({west}, {south}, {east}, {north}, 4326)" if boxed else "TRUE"
    box = f"bbox={west},{south},{east},{north}&" if boxed else ""
    moved = 0
    for resolution in RESOLUTIONS:
        expected = _counted_units(session_factory, where=inside, resolution=resolution)
        got = _hexbins_http(client, admin, f"{box}resolution={resolution}")
        assert got == expected, resolution
        with session_factory() as session:
            moved += sum(
                basic_int.cell_to_parent(cell, resolution)
                != basic_int.latlng_to_cell(lat, lon, resolution)
                for cell, lon, lat in session.execute(
                    text(
                        "SELECT h3_cell, ST_X(geom), ST_Y(geom) FROM units"
                        " WHERE h3_cell IS NOT NULL"
                    )
                )
            )
    assert moved > 100  # the demo city has units outside their cell's ancestor


def test_api_writes_keep_the_stored_bins_exact(
    client: TestClient, session_factory: sessionmaker[Session], city: None
) -> None:
    admin = bearer(client, make_user(session_factory, Role.ADMIN))
    before = _hexbins_http(client, admin)
    properties = {"name": "六边形单位", "category": "bank", "risk_level": 4}
    point = {"type": "Point", "coordinates": [116.397, 39.909]}
    unit = {"type": "Feature", "properties": properties, "geometry": point}
    created = client.post("/api/layers/units/features", json=unit, headers=admin)
    assert created.status_code == 201, created.text
    url = f"/api/layers/units/features/{created.json()['id']}"
    after_insert = _hexbins_http(client, admin)
    assert after_insert == _counted_units(session_factory) != before
    moves = [{"geometry": {"type": "Point", "coordinates": [116.30, 39.99]}},
             {"properties": {"risk_level": 1}}]  # fmt: skip
    for version, change in enumerate(moves, start=1):
        patched = client.patch(url, json=change, headers={**admin, "If-Match": f'"{version}"'})
        assert patched.status_code == 200, patched.text
        assert _hexbins_http(client, admin) == _counted_units(session_factory)
    deleted = client.delete(url, headers={**admin, "If-Match": '"3"'})
    assert deleted.status_code == 204, deleted.text
    assert _hexbins_http(client, admin) == _counted_units(session_factory) == before


def _copy_units(session: Session, where: str) -> None:
    session.execute(text(
        "INSERT INTO units (name, category, risk_level, is_key_unit, geom, h3_cell, h3_coarse,"
        " district_id, precinct_id)"
        " SELECT name, category, risk_level, is_key_unit, geom, h3_cell, h3_coarse, district_id,"
        f" precinct_id FROM units WHERE {where}"
    ))  # fmt: skip


@pytest.mark.parametrize(
    "where",
    ["geom && ST_MakeEnvelope(116.38, 39.90, 116.40, 39.92, 4326)", "id % 3 = 0"],
    ids=["one-neighbourhood", "city-wide"],
)
def test_bulk_sql_writes_keep_the_stored_bins_exact(
    where: str, session_factory: sessionmaker[Session], city: None
) -> None:
    with session_factory() as session, session.begin():
        first = int(session.scalar(text("SELECT max(id) FROM units")) or 0)
        _copy_units(session, where)
    assert_exact(session_factory)
    with session_factory() as session, session.begin():
        session.execute(text("UPDATE units SET risk_level = 4, precinct_id = NULL"
                             " WHERE id > :first"), {"first": first})  # fmt: skip
    assert_exact(session_factory)
    with session_factory() as session, session.begin():
        session.execute(text("DELETE FROM units WHERE id > :first"), {"first": first})
    assert_exact(session_factory)


def test_incremental_refresh_equals_a_full_rebuild(
    session_factory: sessionmaker[Session], city: None
) -> None:
    with session_factory() as session, session.begin():
        session.execute(text("UPDATE units SET risk_level = 5 - risk_level WHERE id % 97 = 0"))
    with session_factory() as session, session.begin():
        hexagg.ensure_fresh(session, UNITS)
        incremental = session.execute(SNAPSHOT).all()
        hexagg.refresh(session, UNITS, None)
        assert session.execute(SNAPSHOT).all() == incremental
        assert incremental


def _scoped(session_factory: sessionmaker[Session], table: str) -> tuple[int, str]:
    with session_factory() as session:
        row = session.execute(text(f"SELECT id, code FROM {table} ORDER BY id LIMIT 1")).one()
    return int(row[0]), str(row[1])


@pytest.mark.parametrize("table", ["districts", "precincts"])
def test_scoped_users_get_their_share_only(
    table: str, client: TestClient, session_factory: sessionmaker[Session], city: None
) -> None:
    area_id, code = _scoped(session_factory, table)
    where: Any = (Jurisdiction(district_code=code) if table == "districts"
                  else Jurisdiction(precinct_code=code))  # fmt: skip
    officer = bearer(client, make_user(session_factory, Role.OFFICER, where))
    column = "district_id" if table == "districts" else "precinct_id"
    mine = _counted_units(session_factory, f"{column} = {area_id}")
    assert _hexbins_http(client, officer) == mine
    assert (
        0
        < sum(n for n, _ in mine.values())
        < sum(n for n, _ in _counted_units(session_factory).values())
    )


def test_cells_of_a_box() -> None:
    point = (116.397, 39.909, 116.397, 39.909)
    assert hexagg.cells_in(point) == [basic_int.latlng_to_cell(39.909, 116.397, 9)]
    assert len(hexagg.cells_in((116.39, 39.90, 116.40, 39.91)) or []) > 10
    assert hexagg.cells_in((115.4, 39.4, 117.5, 41.1)) is None


def test_the_0013_migration_gives_existing_units_their_coarse_cells(
    scratch_database_url: str,
) -> None:
    config = alembic_config(scratch_database_url)
    engine = create_engine(scratch_database_url)
    command.downgrade(config, "0012")
    rng = np.random.default_rng(5)
    lons, lats = rng.normal(116.4, 0.02, 500).tolist(), rng.normal(39.9, 0.02, 500).tolist()
    points = [{"x": x, "y": y, "cell": basic_int.latlng_to_cell(y, x, 9)}
              for x, y in zip(lons, lats, strict=True)]  # fmt: skip
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO units (name, category, risk_level, is_key_unit, geom, h3_cell)"
            " VALUES ('旧单位', 'bank', 1, false, ST_Point(:x, :y, 4326), :cell)"
        ), points)  # fmt: skip
    command.upgrade(config, "head")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT ST_X(geom), ST_Y(geom), h3_coarse FROM units")).all()
        queued = conn.scalar(text("SELECT count(*) FROM hex_count_dirty WHERE layer = 'units'"))
    engine.dispose()
    assert len(rows) == 500 and queued
    assert all(coarse == [basic_int.latlng_to_cell(y, x, r) for r in range(9)]
               for x, y, coarse in rows)  # fmt: skip
