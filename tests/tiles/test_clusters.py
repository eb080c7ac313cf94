"""Precomputed clusters: filled by triggers' dirty boxes, equal to a full rebuild."""

from __future__ import annotations

import pytest
from shapely.geometry import Point
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from geo.tiling import tile_bounds_wgs84
from layers.accounts.scope import SYSTEM, Scope, ScopeKind
from layers.features.registry import get_layer
from layers.features.service import delete_feature, update_feature
from tests.tiles.area import Area, build_area
from tiles.clusters import (
    cell_params,
    clusters,
    dirty,
    ensure_fresh,
    refresh,
    stored_cluster_rows,
)
from tiles.sql import TileFrame, TileGeometry

UNITS = get_layer("units")
SNAPSHOT = text(
    "SELECT zoom, cx, cy, precinct_id, district_id, n, round(sum_x), round(sum_y), maxima, trues"
    " FROM tile_clusters WHERE layer = 'units' ORDER BY 1, 2, 3, 4, 5"
)


@pytest.fixture(scope="module")
def area(session_factory: sessionmaker[Session], city: None) -> Area:
    """The module's own test area in the shared database."""
    return build_area(session_factory, 103.05, 30.05)


def cluster_counts(session: Session, z: int, x: int, y: int, scope_sql: object) -> int:
    frame = TileFrame.of(extent=4096, buffer=64)
    rows = stored_cluster_rows(UNITS, frame, z, scope_sql).subquery()  # type: ignore[arg-type]
    params = {**TileGeometry.of(z, x, y, extent=4096, buffer=64).params(), **cell_params(x, y)}
    return int(session.scalar(select(func.coalesce(func.sum(rows.c.count), 0)), params) or 0)


def points_in_tile(session: Session, z: int, x: int, y: int, extra: str = "") -> int:
    west, south, east, north = tile_bounds_wgs84(z, x, y)
    return int(
        session.scalar(
            text(f"SELECT count(*) FROM units WHERE ST_X(geom) >= :w AND ST_X(geom) < :e "
                 f"AND ST_Y(geom) > :s AND ST_Y(geom) <= :n {extra}"),
            {"w": west, "e": east, "s": south, "n": north},
        )
    )  # fmt: skip


def test_writes_mark_dirty_and_reads_refresh(
    session_factory: sessionmaker[Session], area: Area
) -> None:
    z, x, y = 11, area.tile[1] >> 3, area.tile[2] >> 3
    with session_factory() as session, session.begin():
        ensure_fresh(session, UNITS)
        before = cluster_counts(session, z, x, y, clusters.c.layer.isnot(None))
        assert before == points_in_tile(session, z, x, y) > 0
    west, south, _, _ = tile_bounds_wgs84(z, x, y)
    with session_factory() as session, session.begin():
        update_feature(session=session, spec=UNITS, feature_id=area.unit_ids[0],
                       expected_version=1, actor=SYSTEM, geometry=Point(west - 0.5, south - 0.5),
                       max_vertices=10_000)  # fmt: skip
        delete_feature(session=session, spec=UNITS, feature_id=area.unit_ids[1],
                       expected_version=1, actor=SYSTEM)  # fmt: skip
    with session_factory() as session, session.begin():
        pending = select(func.count()).where(dirty.c.layer == "units")
        assert (session.scalar(pending) or 0) > 0
        ensure_fresh(session, UNITS)
        assert session.scalar(pending) == 0
        after = cluster_counts(session, z, x, y, clusters.c.layer.isnot(None))
        assert after == points_in_tile(session, z, x, y) == before - 2


def test_incremental_refresh_equals_a_full_rebuild(
    session_factory: sessionmaker[Session], area: Area
) -> None:
    with session_factory() as session, session.begin():
        ensure_fresh(session, UNITS)
        incremental = session.execute(SNAPSHOT).all()
        refresh(session, UNITS, None)
        assert session.execute(SNAPSHOT).all() == incremental
        assert incremental


def test_scoped_clusters_count_the_scope_only(
    session_factory: sessionmaker[Session], area: Area
) -> None:
    z, x, y = 10, area.tile[1] >> 4, area.tile[2] >> 4
    with session_factory() as session, session.begin():
        ensure_fresh(session, UNITS)
        east = session.scalar(text("SELECT id FROM precincts WHERE code = :c"),
                              {"c": area.east_precinct_code})  # fmt: skip
        scoped = Scope(ScopeKind.PRECINCT, east)
        mine = cluster_counts(session, z, x, y, clusters.c.precinct_id == scoped.id)
        assert 0 < mine == points_in_tile(session, z, x, y, f"AND precinct_id = {int(east)}")
        assert mine < cluster_counts(session, z, x, y, clusters.c.layer.isnot(None))
