"""Counting within a radius from stored hex cells: every cell and every count is exact."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from h3.api import basic_int
from pyproj import Geod
from shapely.geometry import Point
from sqlalchemy import ColumnElement, func, select, text, true
from sqlalchemy.orm import Session, sessionmaker

from layers.accounts.scope import CITY, Scope, ScopeKind
from layers.features import hexagg, hexdisc
from layers.features.models import Unit
from layers.features.registry import get_layer

UNITS = get_layer("units")
GEOD = Geod(ellps="WGS84")
FINEST = hexagg.FINEST
CENTRE = (116.3912, 39.9073)  # Tiananmen


def _metres(lon: float, lat: float, lons: npt.ArrayLike, lats: npt.ArrayLike) -> np.ndarray:
    lons, lats = np.asarray(lons, dtype=float), np.asarray(lats, dtype=float)
    _, _, dist = GEOD.inv(np.full(lons.shape, lon), np.full(lats.shape, lat), lons, lats)
    return np.asarray(dist)


def _outline(cell: int, per_edge: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Return the cell's outline (lon, lat), each edge cut into ``per_edge`` pieces."""
    outline = basic_int.cell_to_boundary(cell)
    ring = np.array((*outline, outline[0]))
    steps = np.linspace(0, 1, per_edge, endpoint=False)[:, None, None]
    points = (ring[:-1] + steps * (ring[1:] - ring[:-1])).reshape(-1, 2)
    return points[:, 1], points[:, 0]


@pytest.mark.parametrize("seed", range(6))
def test_disc_cells_are_what_they_claim_to_be(seed: int) -> None:
    rng = np.random.default_rng(seed)
    lon, lat = rng.uniform(115.5, 117.4), rng.uniform(39.5, 41.0)
    radius = float(rng.choice([60.0, 400.0, 2000.0, 6000.0]) * rng.uniform(0.8, 1.2))
    cells = hexdisc.disc_cells(lon, lat, radius)
    assert cells is not None
    inside = {c for cell in cells.inside for c in basic_int.cell_to_children(cell, FINEST)}
    edge = set(cells.edge)
    assert edge and not inside & edge
    for cell in inside:  # a cell lies in the circle when its vertices do
        assert _metres(lon, lat, *_outline(cell)).max() <= radius
    centre = basic_int.latlng_to_cell(lat, lon, FINEST)
    reach = max(basic_int.grid_distance(centre, c) for c in inside | edge) + 2
    for cell in set(basic_int.grid_disk(centre, reach)) - inside - edge:
        assert _metres(lon, lat, *_outline(cell, per_edge=40)).min() > radius
    # what matters: a point's own cell says inside or outside, or leaves it to the test
    box = GEOD.fwd([lon] * 4, [lat] * 4, [0, 90, 180, 270], [radius * 1.2] * 4)
    lons = rng.uniform(box[0][3], box[0][1], 4000)
    lats = rng.uniform(box[1][2], box[1][0], 4000)
    distances = _metres(lon, lat, lons, lats)
    for x, y, d in zip(lons, lats, distances, strict=True):
        cell = basic_int.latlng_to_cell(y, x, FINEST)
        assert (
            (cell in inside and d <= radius) or cell in edge or (cell not in inside and d > radius)
        )


def test_too_many_cells_and_unanswerable_scopes_fall_back(
    session_factory: sessionmaker[Session], city: None
) -> None:
    assert hexdisc.disc_cells(116.39, 39.9, 13_000) is None  # past MAX_DISC_CELLS
    with session_factory() as session:
        for scope, spec, radius in [(CITY, UNITS, 13_000.0), (Scope(ScopeKind.UNIT, 1), UNITS,
                                    500.0), (CITY, get_layer("parks"), 500.0)]:  # fmt: skip
            assert hexdisc.count_within(session=session, spec=spec, scope=scope,
                                        centre=Point(116.39, 39.9), radius_m=radius,
                                        where=[true()]) is None  # fmt: skip


def _brute(session: Session, lon: float, lat: float, radius: float,
           where: ColumnElement[bool]) -> int:  # fmt: skip
    """Count with the exact geodesic test over the whole table (no index, no cells)."""
    target = func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326)
    near = func.ST_DWithin(func.geography(Unit.geom), func.geography(target), radius)
    return int(session.scalar(select(func.count()).select_from(Unit).where(near, where)) or 0)


def _places(session: Session) -> list[tuple[float, float]]:
    """Tiananmen, a unit near Guomao, and the nearest points of precinct and district edges."""
    places = session.execute(text(
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT geom AS p FROM units"
        "  ORDER BY geom <-> ST_SetSRID(ST_MakePoint(116.461, 39.909), 4326) LIMIT 1) u"
        " UNION ALL SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_ClosestPoint(ST_Boundary(geom),"
        "  ST_SetSRID(ST_MakePoint(:x, :y), 4326)) AS p FROM precincts UNION ALL"
        "  SELECT ST_ClosestPoint(ST_Boundary(geom), ST_SetSRID(ST_MakePoint(:x, :y), 4326))"
        "  FROM districts) edges"
        " WHERE ST_DWithin(p, ST_SetSRID(ST_MakePoint(:x, :y), 4326), 0.02)"
    ), {"x": CENTRE[0], "y": CENTRE[1]}).all()  # fmt: skip
    return [CENTRE, *((float(x), float(y)) for x, y in places)]


def test_stored_counts_equal_brute_force_for_each_scope(
    session_factory: sessionmaker[Session], city: None
) -> None:
    with session_factory() as session:
        district, precinct = session.execute(
            select(Unit.district_id, Unit.precinct_id).where(Unit.precinct_id.is_not(None))
            .group_by(Unit.district_id, Unit.precinct_id).order_by(func.count().desc()).limit(1)
        ).one()  # fmt: skip
        scopes = [(CITY, true()),
                  (Scope(ScopeKind.DISTRICT, district), Unit.district_id == district),
                  (Scope(ScopeKind.PRECINCT, precinct), Unit.precinct_id == precinct)]  # fmt: skip
        answered = 0
        for lon, lat in _places(session):
            for radius in (300.0, 1_500.0, 4_000.0):
                for scope, where in scopes:
                    got = hexdisc.count_within(session=session, spec=UNITS, scope=scope,
                                               centre=Point(lon, lat), radius_m=radius,
                                               where=[scope.clause(Unit)])  # fmt: skip
                    assert got == _brute(session, lon, lat, radius, where), (lon, lat, radius)
                    answered += bool(got)
        assert answered > 20


def test_a_write_after_the_last_refresh_is_counted(
    session_factory: sessionmaker[Session], city: None
) -> None:
    lon, lat = CENTRE
    centre = Point(lon, lat)
    with session_factory() as session, session.begin():
        hexagg.ensure_fresh(session, UNITS)
    with session_factory() as session, session.begin():  # a writer that bypasses the service
        new_id = session.scalar(
            text(
                "INSERT INTO units (name, category, risk_level, is_key_unit, geom, h3_cell)"
                " VALUES ('半径单位', 'bank', 1, false,"
                " ST_SetSRID(ST_MakePoint(:x, :y), 4326), :cell)"
                " RETURNING id"
            ),
            {"x": lon + 0.001, "y": lat, "cell": basic_int.latlng_to_cell(lat, lon + 0.001, 9)},
        )
    try:
        with session_factory() as session:
            pending = session.scalar(select(func.count()).select_from(hexagg.HexCountDirty))
            got = hexdisc.count_within(session=session, spec=UNITS, scope=CITY, centre=centre,
                                       radius_m=500.0, where=[true()])  # fmt: skip
            assert pending and got == _brute(session, lon, lat, 500.0, true())
    finally:
        with session_factory() as session, session.begin():
            session.execute(text("DELETE FROM units WHERE id = :id"), {"id": new_id})
