"""Perimeters drawn, read, replaced (versions kept), deleted; who may, where, and bad input."""

from __future__ import annotations

import math
from typing import Any

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import Point, shape
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from geo.measure import distance_m
from layers.accounts.roles import Role
from layers.accounts.service import Jurisdiction
from layers.audit.models import AuditRecord
from layers.features.models import Precinct
from layers.perimeters.models import Perimeter
from tests.utils.perimeters import busy_place, create_perimeter, perimeter_body, square
from tests.utils.users import bearer, make_user


class Cast:
    """A planner, a commander, an officer of the busy precinct and one far away, a unit user."""

    def __init__(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        with factory() as session:
            self.precinct, self.centre = busy_place(session)
            far = session.scalars(
                select(Precinct).where(func.ST_Distance(
                    Precinct.geom, func.ST_SetSRID(func.ST_Point(self.centre.x, self.centre.y),
                                                   4326)) > 0.2)
                .order_by(Precinct.id)
            ).first()  # fmt: skip
            assert far is not None
        self.planner = bearer(client, make_user(factory, Role.PLANNER))
        self.commander = bearer(client, make_user(factory, Role.COMMANDER))
        here = Jurisdiction(precinct_code=self.precinct.code)
        self.officer = bearer(client, make_user(factory, Role.OFFICER, here))
        there = Jurisdiction(precinct_code=far.code)
        self.stranger = bearer(client, make_user(factory, Role.OFFICER, there))
        self.far_planner = bearer(client, make_user(factory, Role.PLANNER, there))
        self.tourism = bearer(client, make_user(factory, Role.TOURISM))


@pytest.fixture(scope="module")
def cast(client: TestClient, session_factory: sessionmaker[Session]) -> Cast:
    """The people of this module."""
    return Cast(client, session_factory)


def _count(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(Perimeter)) or 0)


def test_a_planner_draws_three_rings_and_each_is_geodesically_right(
    client: TestClient, cast: Cast
) -> None:
    made = create_perimeter(client, cast.planner, perimeter_body(cast.centre))
    assert made["version"] == 1 and [r["kind"] for r in made["rings"]] == [
        "core", "control", "outer",
    ]  # fmt: skip
    core, control, outer = (shape(r["geometry"]) for r in made["rings"])
    # every vertex of the core is 800 m from the centre on the ellipsoid, the control
    # ring's 1,800 m (1 km around an 800 m circle); the vertices lie along geodesics
    for ring, metres in ((core, 800.0), (control, 1800.0)):
        xs, ys = zip(*ring.geoms[0].exterior.coords, strict=True)
        reach = distance_m(cast.centre.x, cast.centre.y, list(xs), list(ys))
        assert abs(reach.max() - metres) < metres * 0.002 and reach.min() > metres * 0.995
        assert made["rings"][0]["area_m2"] == pytest.approx(math.pi * 800**2, rel=0.01)
    assert outer.contains(control) and control.contains(core)
    assert made["rings"][1]["drawn"] == {"around_core_m": 1000.0}
    read = client.get(f"/api/perimeters/{made['id']}", headers=cast.officer)
    assert read.status_code == 200 and read.headers["etag"] == '"1"'
    assert read.json()["rings"] == made["rings"]


def test_an_edit_keeps_the_old_version_and_needs_the_current_one(
    client: TestClient, cast: Cast, session_factory: sessionmaker[Session]
) -> None:
    made = create_perimeter(client, cast.commander, perimeter_body(cast.centre))
    url = f"/api/perimeters/{made['id']}"
    moved = perimeter_body(Point(cast.centre.x + 0.01, cast.centre.y), name="改期后")
    assert client.put(url, json=moved, headers=cast.planner).status_code == 428
    stale = client.put(url, json=moved, headers=cast.planner | {"If-Match": '"7"'})
    assert stale.status_code == 412 and stale.headers["etag"] == '"1"'
    done = client.put(url, json=moved, headers=cast.planner | {"If-Match": '"1"'})
    assert done.status_code == 200 and done.json()["version"] == 2, done.text
    versions = client.get(f"{url}/versions", headers=cast.officer).json()
    assert [v["version"] for v in versions["data"]] == [1, 2]
    first = client.get(f"{url}/versions/1", headers=cast.officer).json()["content"]
    assert first["name"] == "跨年演唱会安保" and first["version"] == 1
    old_core = shape(first["rings"][0]["geometry"])
    assert old_core.centroid.distance(cast.centre) < 1e-4
    assert shape(done.json()["rings"][0]["geometry"]).centroid.x > cast.centre.x + 0.009
    assert client.get(f"{url}/versions/3", headers=cast.officer).status_code == 404
    with session_factory() as session:
        audited = session.scalars(
            select(AuditRecord.action).where(AuditRecord.target_type == "perimeter",
                                             AuditRecord.target_id == str(made["id"]))
            .order_by(AuditRecord.id)
        ).all()  # fmt: skip
    assert audited == ["perimeter.create", "perimeter.update"]
    gone = client.delete(url, headers=cast.commander | {"If-Match": '"2"'})
    assert gone.status_code == 204
    assert client.get(url, headers=cast.commander).status_code == 404


def test_who_may_draw_and_who_sees(client: TestClient, cast: Cast) -> None:
    body = perimeter_body(cast.centre)
    for refused in (cast.officer, cast.tourism):
        assert client.post("/api/perimeters", json=body, headers=refused).status_code == 403
    made = create_perimeter(client, cast.planner, body)
    url = f"/api/perimeters/{made['id']}"
    assert client.get(url, headers=cast.officer).status_code == 200
    # an officer of a precinct the rings do not reach sees nothing, as if it did not exist
    assert client.get(url, headers=cast.stranger).status_code == 404
    listed = client.get("/api/perimeters", headers=cast.stranger).json()["data"]
    assert made["id"] not in [p["id"] for p in listed]
    assert client.get(url, headers=cast.tourism).status_code == 403
    # a planner limited to a far precinct may not draw here, nor edit what he cannot see
    assert client.post("/api/perimeters", json=body, headers=cast.far_planner).status_code == 403
    edit = client.put(url, json=body, headers=cast.far_planner | {"If-Match": '"1"'})
    assert edit.status_code == 404
    assert client.delete(url, headers=cast.officer | {"If-Match": '"1"'}).status_code == 403


def test_the_list_shows_what_is_in_force_at_a_time(client: TestClient, cast: Cast) -> None:
    made = create_perimeter(client, cast.planner, perimeter_body(cast.centre))
    during = client.get("/api/perimeters", params={"at": "2026-12-24T20:00:00+08:00"},
                        headers=cast.planner).json()  # fmt: skip
    before = client.get("/api/perimeters", params={"at": "2026-12-24T17:00:00+08:00"},
                        headers=cast.planner).json()  # fmt: skip
    assert made["id"] in [p["id"] for p in during["data"]]
    assert made["id"] not in [p["id"] for p in before["data"]]


def _bowtie(centre: Point) -> dict[str, Any]:
    x, y = centre.x, centre.y
    ring = [[x, y], [x + 0.01, y + 0.01], [x + 0.01, y], [x, y + 0.01], [x, y]]
    return {"type": "Polygon", "coordinates": [ring]}


def _jagged(centre: Point, vertices: int) -> dict[str, Any]:
    turns = [2 * math.pi * i / vertices for i in range(vertices)]
    ring = [[centre.x + 0.01 * math.cos(t), centre.y + 0.01 * math.sin(t)] for t in turns]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def _point(centre: Point) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [centre.x, centre.y]}


def _line(centre: Point) -> dict[str, Any]:
    east = [centre.x + 0.01, centre.y]
    return {"type": "LineString", "coordinates": [[centre.x, centre.y], east]}


BAD_RINGS = {
    "empty": lambda c: [{"kind": "core", "polygon": {"type": "Polygon", "coordinates": []}}],
    "self-intersecting": lambda c: [{"kind": "core", "polygon": _bowtie(c)}],
    "outside China": lambda c: [{"kind": "core", "polygon": square(Point(2.35, 48.85), 0.01)}],
    "too large": lambda c: [{"kind": "outer", "polygon": square(c, 0.3)}],
    "too many vertices": lambda c: [{"kind": "core", "polygon": _jagged(c, 2500)}],
    "buffer of zero": lambda c: [{"kind": "core", "around": _point(c), "buffer_m": 0}],
    "negative distance around the core": lambda c: [
        {"kind": "core", "polygon": square(c, 0.01)},
        {"kind": "outer", "around_core_m": -5},
    ],
    "no core to grow": lambda c: [{"kind": "outer", "around_core_m": 500}],
    "a line with no buffer": lambda c: [{"kind": "core", "polygon": _line(c)}],
    "no ring": lambda c: [],
}


@pytest.mark.parametrize("problem", sorted(BAD_RINGS))
def test_a_bad_ring_is_a_clear_4xx_and_nothing_is_saved(
    client: TestClient, cast: Cast, session_factory: sessionmaker[Session], problem: str
) -> None:
    before = _count(session_factory)
    body = perimeter_body(cast.centre, rings=BAD_RINGS[problem](cast.centre))
    response = client.post("/api/perimeters", json=body, headers=cast.planner)
    assert response.status_code == 422, response.text
    assert response.json()["detail"]
    assert _count(session_factory) == before


def test_bad_rings_say_what_is_wrong(client: TestClient, cast: Cast) -> None:
    def detail(problem: str) -> str:
        body = perimeter_body(cast.centre, rings=BAD_RINGS[problem](cast.centre))
        return str(client.post("/api/perimeters", json=body, headers=cast.planner).json()["detail"])

    assert "self-intersects" in detail("self-intersecting")
    assert "outside China" in detail("outside China")
    assert "km²" in detail("too large") and "1,000" in detail("too large")
    assert "2501 vertices, more than the limit of 2000" in detail("too many vertices")
    assert "more than 0" in detail("buffer of zero")
    assert "needs a core ring" in detail("no core to grow")


def test_a_window_ending_before_it_starts_is_refused(
    client: TestClient, cast: Cast, session_factory: sessionmaker[Session]
) -> None:
    before = _count(session_factory)
    body = perimeter_body(cast.centre, starts_at="2026-12-25T02:00:00+08:00",
                          ends_at="2026-12-24T18:00:00+08:00")  # fmt: skip
    response = client.post("/api/perimeters", json=body, headers=cast.planner)
    assert response.status_code == 422 and "before it starts" in response.json()["detail"]
    made = create_perimeter(client, cast.planner, perimeter_body(cast.centre))
    edit = client.put(f"/api/perimeters/{made['id']}", json=body,
                      headers=cast.planner | {"If-Match": '"1"'})  # fmt: skip
    assert edit.status_code == 422
    assert _count(session_factory) == before + 1
    assert client.get(f"/api/perimeters/{made['id']}", headers=cast.planner).json()["version"] == 1


def test_instants_postgresql_cannot_store_are_refused_or_kept_in_utc(
    client: TestClient, cast: Cast
) -> None:
    # an offset PostgreSQL cannot store is kept in UTC; a year past its calendar is a 422
    odd = perimeter_body(cast.centre, starts_at="2026-12-23T00:00:00-20:49")
    stored = client.post("/api/perimeters", json=odd, headers=cast.planner)
    assert stored.status_code == 201 and stored.json()["starts_at"].startswith("2026-12-23T20:49")
    late = perimeter_body(cast.centre, ends_at="9999-12-31T23:59:59-15:00")
    assert client.post("/api/perimeters", json=late, headers=cast.planner).status_code == 422
    at = client.get("/api/perimeters", params={"at": "2026-12-24T20:00:00-20:49"},
                    headers=cast.planner)  # fmt: skip
    assert at.status_code == 200


def test_a_perimeter_names_an_activity_it_may_see(
    client: TestClient, cast: Cast, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        activity = session.scalar(text("SELECT id FROM records WHERE kind = 'activity' LIMIT 1"))
        task = session.scalar(text("SELECT id FROM records WHERE kind = 'task' LIMIT 1"))
    made = create_perimeter(client, cast.planner, perimeter_body(cast.centre, activity_id=activity))
    assert made["activity_id"] == activity
    wrong = client.post("/api/perimeters", json=perimeter_body(cast.centre, activity_id=task),
                        headers=cast.planner)  # fmt: skip
    assert wrong.status_code == 404
