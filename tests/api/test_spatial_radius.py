"""Within a distance of a point or line: exact counts, nearest first, scope, edges, writes."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from pyproj import Geod
from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.orm import Session, sessionmaker

from layers.accounts.roles import Role
from layers.accounts.service import Jurisdiction
from layers.features.models import ConstructionSite, District, Park, Precinct, Unit
from tests.utils.spatial import ask, line_geography
from tests.utils.users import bearer, make_user

CENTRE = (116.3912, 39.9073)  # Tiananmen
GEOD = Geod(ellps="WGS84")


def _target(lon: float, lat: float) -> Any:
    return func.geography(func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326))


def _nearest_within(session: Session, lon: float, lat: float, radius: float,
                    where: ColumnElement[bool]) -> list[tuple[int, float]]:  # fmt: skip
    """Every unit within ``radius`` (brute force over the table), nearest first, then by id."""
    metres = func.ST_Distance(func.geography(Unit.geom), _target(lon, lat))
    rows = session.execute(
        select(Unit.id, metres).where(func.ST_DWithin(func.geography(Unit.geom),
                                                      _target(lon, lat), radius), where)
        .order_by(metres, Unit.id)
    ).all()  # fmt: skip
    return [(int(i), float(m)) for i, m in rows]


def _check(result: dict[str, Any], expected: list[tuple[int, float]], limit: int) -> None:
    """The exact count, and the ``limit`` nearest in order with their distances."""
    assert result["count"] == len(expected)
    assert result["truncated"] is (len(expected) > limit)
    got = [(f["id"], f["properties"]["distance_m"]) for f in result["features"]]
    assert [i for i, _ in got] == [i for i, _ in expected[:limit]]
    assert [d for _, d in got] == pytest.approx([d for _, d in expected[:limit]], abs=0.006)


def _edges(session: Session) -> list[tuple[float, float]]:
    """The points of precinct and district outlines nearest to Tiananmen (within ~3 km)."""
    centre = func.ST_SetSRID(func.ST_MakePoint(*CENTRE), 4326)
    points = []
    for model in (Precinct, District):
        point = func.ST_ClosestPoint(func.ST_Boundary(model.geom), centre)
        near = func.ST_DWithin(point, centre, 0.03)
        points += session.execute(select(func.ST_X(point), func.ST_Y(point)).where(near)).all()
    assert len(points) >= 3
    return [(float(x), float(y)) for x, y in points]


@pytest.mark.parametrize("radius", [120.0, 900.0, 2_000.0, 6_000.0, 14_000.0])
def test_counts_and_order_are_exact_around_the_centre_and_on_edges(
    client: TestClient, session_factory: sessionmaker[Session], admin: dict[str, str],
    radius: float,
) -> None:  # fmt: skip
    with session_factory() as session:
        places = [CENTRE, *_edges(session)]
        expected = [_nearest_within(session, *place, radius, true()) for place in places]
    assert any(expected)
    for place, nearest in zip(places, expected, strict=True):
        for limit in (0, 7, 10_000):
            result = ask(client, admin, point=list(place), radius_m=radius, limit=limit)
            _check(result, nearest, limit)


def test_distances_are_geodesic_metres(
    client: TestClient, session_factory: sessionmaker[Session], admin: dict[str, str]
) -> None:
    result = ask(client, admin, point=list(CENTRE), radius_m=3000, limit=10_000)
    with session_factory() as session:
        rows = session.execute(select(Unit.id, func.ST_X(Unit.geom), func.ST_Y(Unit.geom))).all()
    where = {int(i): (x, y) for i, x, y in rows}
    lons, lats = np.array([where[f["id"]] for f in result["features"]]).T
    _, _, metres = GEOD.inv(np.full(lons.shape, CENTRE[0]), np.full(lats.shape, CENTRE[1]),
                            lons, lats)  # fmt: skip
    got = [f["properties"]["distance_m"] for f in result["features"]]
    assert len(got) > 50 and got == sorted(got)
    assert got == pytest.approx(list(metres), abs=0.006)


@pytest.mark.parametrize("area", ["district", "precinct"])
def test_officers_count_only_their_area_even_across_its_edge(
    client: TestClient, session_factory: sessionmaker[Session], area: str
) -> None:
    with session_factory() as session:
        model = Precinct if area == "precinct" else District
        centre = func.ST_SetSRID(func.ST_MakePoint(*CENTRE), 4326)
        mine = session.execute(select(model.id, model.code).where(
            func.ST_Contains(model.geom, centre))).one()  # fmt: skip
        column = Unit.precinct_id if area == "precinct" else Unit.district_id
        places = [CENTRE, *_edges(session)]
        expected = [_nearest_within(session, *p, 2500.0, column == mine.id) for p in places]
    where = (Jurisdiction(precinct_code=mine.code) if area == "precinct"
             else Jurisdiction(district_code=mine.code))  # fmt: skip
    officer = bearer(client, make_user(session_factory, Role.OFFICER, where))
    for place, nearest in zip(places, expected, strict=True):
        _check(ask(client, officer, point=list(place), radius_m=2500, limit=25), nearest, 25)
    assert any(expected)


def test_unit_users_find_at_most_their_own_unit(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        unit_id, lon, lat = session.execute(
            select(Unit.id, func.ST_X(Unit.geom), func.ST_Y(Unit.geom)).order_by(
                Unit.geom.op("<->")(func.ST_SetSRID(func.ST_MakePoint(*CENTRE), 4326))).limit(1)
        ).one()  # fmt: skip
    headers = bearer(client, make_user(session_factory, Role.UNIT, Jurisdiction(unit_id=unit_id)))
    near = ask(client, headers, point=[lon, lat], radius_m=500, limit=10)
    assert near["count"] == 1 and [f["id"] for f in near["features"]] == [unit_id]
    assert ask(client, headers, point=[lon + 0.05, lat], radius_m=500)["count"] == 0


def test_filters_are_counted_exactly(
    client: TestClient, session_factory: sessionmaker[Session], admin: dict[str, str]
) -> None:
    filters = {"units": {"risk_level": "3..4", "category": "company,school,bank"}}
    result = ask(client, admin, point=list(CENTRE), radius_m=4000, limit=30, filters=filters)
    where = (Unit.risk_level >= 3) & Unit.category.in_(["company", "school", "bank"])
    with session_factory() as session:
        _check(result, _nearest_within(session, *CENTRE, 4000, where), 30)


def test_the_circle_edge_is_exact_to_the_centimetre(
    client: TestClient, session_factory: sessionmaker[Session], admin: dict[str, str]
) -> None:
    """Units 3 cm inside and outside the circle, all around, and the count follows writes."""
    centre, radius = (116.3005, 39.9553), 1_000.0
    before = ask(client, admin, point=list(centre), radius_m=radius, limit=0)["count"]
    azimuths = np.arange(0.0, 360.0, 22.5)
    created = []
    for offset in (-0.03, 0.03):
        lons, lats, _ = GEOD.fwd(np.full(azimuths.shape, centre[0]),
                                 np.full(azimuths.shape, centre[1]), azimuths,
                                 np.full(azimuths.shape, radius + offset))  # fmt: skip
        for lon, lat in zip(lons, lats, strict=True):
            unit = {"geometry": {"type": "Point", "coordinates": [lon, lat]},
                    "properties": {"name": "圆周单位", "category": "bank"}}  # fmt: skip
            response = client.post("/api/layers/units/features", json=unit, headers=admin)
            assert response.status_code == 201, response.text
            created.append(response.json()["id"])
    try:
        inside = set(created[: len(azimuths)])
        result = ask(client, admin, point=list(centre), radius_m=radius, limit=10_000)
        assert result["count"] == before + len(inside)
        ids = {f["id"] for f in result["features"]}
        assert inside <= ids and not ids & set(created[len(azimuths) :])
        with session_factory() as session:
            _check(result, _nearest_within(session, *centre, radius, true()), 10_000)
    finally:
        for unit_id in created:
            deleted = client.delete(f"/api/layers/units/features/{unit_id}",
                                    headers={**admin, "If-Match": '"1"'})  # fmt: skip
            assert deleted.status_code == 204, deleted.text
    assert ask(client, admin, point=list(centre), radius_m=radius, limit=0)["count"] == before


def test_around_a_line_nearest_first(
    client: TestClient, session_factory: sessionmaker[Session], admin: dict[str, str]
) -> None:
    line = [[116.35, 39.90], [116.45, 39.92]]
    result = ask(client, admin, line=line, buffer_m=400, limit=40)
    with session_factory() as session:
        target = line_geography(line)
        metres = func.ST_Distance(func.geography(Unit.geom), target)
        expected = session.execute(
            select(Unit.id, metres).where(func.ST_DWithin(func.geography(Unit.geom), target, 400))
            .order_by(metres, Unit.id)
        ).all()  # fmt: skip
    _check(result, [(int(i), float(m)) for i, m in expected], 40)


@pytest.mark.parametrize(
    "body",
    [{"point": [116.4, 39.9], "radius_m": 0}, {"point": [116.4, 39.9], "radius_m": -5},
     {"point": [116.4, 39.9], "radius_m": 50_001}, {"point": [116.4, 39.9], "radius_m": "far"},
     {"point": [116.4], "radius_m": 10}, {"point": [116.4, 95.0], "radius_m": 10},
     {"point": [116.4, 39.9], "radius_m": 10, "limit": 10_001},
     {"point": [116.4, 39.9], "radius_m": 10, "limit": -1},
     {"line": [[116.4, 39.9]], "buffer_m": 10}],
)  # fmt: skip
def test_bad_radius_questions_are_4xx(
    client: TestClient, admin: dict[str, str], body: dict[str, Any]
) -> None:
    response = client.post("/api/spatial/query", json={"layers": ["units"], **body},
                           headers=admin)  # fmt: skip
    assert response.status_code == 422, response.text


def test_the_order_is_documented(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    route = spec["paths"]["/api/spatial/query"]["post"]
    assert "nearest first" in route["description"]
    limit = spec["components"]["schemas"]["SpatialQuery"]["properties"]["limit"]
    assert "nearest first" in limit["description"]


def test_area_layers_are_nearest_first_by_their_nearest_edge(
    client: TestClient, session_factory: sessionmaker[Session], admin: dict[str, str]
) -> None:
    body = {"layers": ["construction_sites", "parks"], "point": list(CENTRE), "radius_m": 8000,
            "limit": 15}  # fmt: skip
    response = client.post("/api/spatial/query", json=body, headers=admin)
    assert response.status_code == 200, response.text
    with session_factory() as session:
        for model in (ConstructionSite, Park):
            metres = func.ST_Distance(func.geography(model.geom), _target(*CENTRE))
            expected = session.execute(
                select(model.id, metres).where(func.ST_DWithin(func.geography(model.geom),
                                                               _target(*CENTRE), 8000))
                .order_by(metres, model.id)
            ).all()  # fmt: skip
            result = response.json()["layers"][model.__tablename__]
            assert expected
            _check(result, [(int(i), float(m)) for i, m in expected], 15)
