"""A perimeter's contents: per ring (an annulus) and layer, the same as PostGIS counts itself."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from geo.hexes import cell_of_point
from layers.accounts.roles import Role
from layers.accounts.service import Jurisdiction
from layers.perimeters.active import active_rings
from tests.utils.perimeters import (
    OUTER_HALF_DEG,
    busy_place,
    create_perimeter,
    innermost,
    perimeter_body,
)
from tests.utils.users import bearer, make_user

ZONE = "Asia/Shanghai"
_WINDOW_DAYS = 3


class Scene:
    """A perimeter of three rings around the busiest place, in force for a week around the
    middle one of its incidents."""

    def __init__(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        with factory() as session:
            self.precinct, centre = busy_place(session)
            middle = session.scalar(text(
                "SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY occurred_at) FROM incidents "
                "WHERE ST_Intersects(geom, ST_Expand(ST_SetSRID(ST_Point(:x, :y), 4326), :d))"
            ), {"x": centre.x, "y": centre.y, "d": OUTER_HALF_DEG})  # fmt: skip
        assert isinstance(middle, datetime)
        self.starts_at = middle - timedelta(days=_WINDOW_DAYS)
        self.ends_at = middle + timedelta(days=_WINDOW_DAYS)
        self.planner = bearer(client, make_user(factory, Role.PLANNER))
        here = Jurisdiction(precinct_code=self.precinct.code)
        self.officer = bearer(client, make_user(factory, Role.OFFICER, here))
        body = perimeter_body(centre, starts_at=self.starts_at.isoformat(),
                              ends_at=self.ends_at.isoformat())  # fmt: skip
        self.perimeter = create_perimeter(client, self.planner, body)
        self.id = self.perimeter["id"]

    def window(self) -> dict[str, Any]:
        """Return the window as SQL parameters: instants and the days they fall on."""
        return {"start": self.starts_at, "end": self.ends_at, "zone": ZONE}


@pytest.fixture(scope="module")
def scene(client: TestClient, session_factory: sessionmaker[Session]) -> Scene:
    """This module's perimeter and people."""
    return Scene(client, session_factory)


def _contents(client: TestClient, scene: Scene, headers: dict[str, str],
              **params: Any) -> dict[str, Any]:  # fmt: skip
    response = client.get(f"/api/perimeters/{scene.id}/contents", params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


_SITES_IN_WINDOW = (
    "(f.starts_on IS NULL OR f.starts_on <= (CAST(:end AS timestamptz) AT TIME ZONE :zone)::date) "
    "AND (f.ends_on IS NULL "
    "     OR f.ends_on >= (CAST(:start AS timestamptz) AT TIME ZONE :zone)::date)"
)
# What each content layer is, written apart from the code under test.
ORACLES: dict[str, tuple[str, str, bool]] = {
    "units": ("units", "true", False),
    "rail_stations": ("rail_stations", "true", False),
    "bus_stations": ("bus_stations", "true", False),
    "construction_sites": ("construction_sites", _SITES_IN_WINDOW, True),
    "key_station_areas": ("key_station_areas", "true", True),
    "incidents": ("incidents", "f.occurred_at BETWEEN :start AND :end", False),
    "hazards": ("records", "f.kind = 'hazard' AND f.state <> 'verified'", False),
    "activities": ("records", "f.kind = 'activity' AND f.state NOT IN ('rejected', 'cancelled') "
                   "AND f.starts_at <= :end AND (f.ends_at IS NULL OR f.ends_at >= :start)", False),
}  # fmt: skip


def _expected(factory: sessionmaker[Session], scene: Scene, layer: str,
              where: str = "true") -> dict[str, list[int]]:  # fmt: skip
    table, condition, areas = ORACLES[layer]
    with factory() as session:
        return innermost(session, scene.id, table, f"({condition}) AND ({where})", areas=areas,
                         **scene.window())  # fmt: skip


def test_every_ring_and_layer_counts_what_postgis_counts(
    client: TestClient, scene: Scene, session_factory: sessionmaker[Session]
) -> None:
    body = _contents(client, scene, scene.planner, limit=5)
    assert body["perimeter"]["id"] == scene.id
    rings = body["rings"]
    assert [r["kind"] for r in rings] == ["core", "control", "outer"]
    for layer in ORACLES:
        expected = _expected(session_factory, scene, layer)
        for ring in rings:
            got = ring["layers"][layer]
            ids = expected.get(ring["kind"], [])
            assert got["count"] == len(ids), (layer, ring["kind"])
            # the first page is the ring's smallest ids, each once
            assert [f["id"] for f in got["features"]["features"]] == ids[:5], (layer, ring["kind"])
            assert got["features"]["truncated"] == (len(ids) > 5)
    units = [ring["layers"]["units"]["count"] for ring in rings]
    assert all(n > 0 for n in units), units  # the test means something in every ring


def test_units_are_counted_by_category_and_risk(
    client: TestClient, scene: Scene, session_factory: sessionmaker[Session]
) -> None:
    body = _contents(client, scene, scene.planner, layers="units", limit=0)
    with session_factory() as session:
        rows = dict(session.execute(text("SELECT id, category || '/' || coalesce(risk_level::text,"
                                         " 'None') FROM units")).all())  # fmt: skip
    expected = _expected(session_factory, scene, "units")
    for ring in body["rings"]:
        assert list(ring["layers"]) == ["units"]
        got = ring["layers"]["units"]
        pairs = Counter(rows[i] for i in expected[ring["kind"]])
        categories: Counter[str] = Counter()
        risks: Counter[str] = Counter()
        for pair, n in pairs.items():
            category, risk = pair.split("/")
            categories[category] += n
            risks[risk] += n
        assert got["groups"] == {"category": dict(categories), "risk_level": dict(risks)}
        assert got["features"]["features"] == []


def test_the_window_decides_which_incidents_count(
    client: TestClient, scene: Scene, session_factory: sessionmaker[Session]
) -> None:
    body = _contents(client, scene, scene.planner, layers="incidents")
    with session_factory() as session:
        every = innermost(session, scene.id, "incidents")
    counted = sum(r["layers"]["incidents"]["count"] for r in body["rings"])
    assert 0 < counted < sum(map(len, every.values()))


def test_an_officer_sees_only_his_precincts_part(
    client: TestClient, scene: Scene, session_factory: sessionmaker[Session]
) -> None:
    body = _contents(client, scene, scene.officer, layers="units,construction_sites")
    for layer in ("units", "construction_sites"):
        mine = _expected(session_factory, scene, layer, f"f.precinct_id = {scene.precinct.id}")
        everyone = _expected(session_factory, scene, layer)
        for ring in body["rings"]:
            assert ring["layers"][layer]["count"] == len(mine.get(ring["kind"], []))
        if layer == "units":
            assert sum(map(len, mine.values())) < sum(map(len, everyone.values()))


def test_contents_in_gcj02_and_bad_parameters(client: TestClient, scene: Scene) -> None:
    plain = _contents(client, scene, scene.planner, layers="units", limit=1)
    shifted = _contents(client, scene, scene.planner, layers="units", limit=1, crs="gcj02")
    a = plain["rings"][0]["layers"]["units"]["features"]["features"][0]["geometry"]["coordinates"]
    b = shifted["rings"][0]["layers"]["units"]["features"]["features"][0]["geometry"]["coordinates"]
    assert 0.001 < abs(b[0] - a[0]) < 0.01  # GCJ-02 lies a few hundred metres off
    url = f"/api/perimeters/{scene.id}/contents"
    wrong = client.get(url, params={"layers": "units,dragons"}, headers=scene.planner)
    assert wrong.status_code == 422 and "dragons" in wrong.json()["detail"]
    assert client.get(url, params={"limit": 5000}, headers=scene.planner).status_code == 422
    unknown = client.get("/api/perimeters/999999999/contents", headers=scene.planner)
    assert unknown.status_code == 404


def test_the_rings_in_force_are_found_by_time(
    scene: Scene, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        during = active_rings(session, scene.starts_at + timedelta(hours=1))
        after = active_rings(session, scene.ends_at + timedelta(seconds=1))
    mine = [r for r in during if r.perimeter_id == scene.id]
    assert [r.kind.value for r in mine] == ["core", "control", "outer"]
    assert all(r.shape.area > 0 for r in mine)
    assert scene.id not in [r.perimeter_id for r in after]


def test_units_without_a_cell_or_on_a_rings_edge_count_too(
    client: TestClient, scene: Scene, session_factory: sessionmaker[Session]
) -> None:
    # a unit written by SQL without its H3 cell, in the core; one exactly on the core's
    # boundary (a vertex of it), which the core holds
    with session_factory() as session, session.begin():
        vertex = session.execute(text(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointN(ST_ExteriorRing(ST_GeometryN(geom, 1)),"
            " 5) AS p FROM perimeter_rings WHERE perimeter_id = :p AND kind = 'core') AS v"
        ), {"p": scene.id}).one()  # fmt: skip
        made = session.scalars(text(
            "INSERT INTO units (name, category, risk_level, is_key_unit, geom, h3_cell) VALUES "
            "('无格单位', 'company', 2, false, ST_Centroid((SELECT geom FROM perimeter_rings "
            "WHERE perimeter_id = :p AND kind = 'core')), NULL), "
            "('边界单位', 'company', 2, false, ST_SetSRID(ST_Point(:x, :y), 4326), :cell) "
            "RETURNING id"
        ), {"p": scene.id, "x": vertex[0], "y": vertex[1],
            "cell": cell_of_point(vertex[0], vertex[1])}).all()  # fmt: skip
    try:
        body = _contents(client, scene, scene.planner, layers="units", limit=0)
        expected = _expected(session_factory, scene, "units")
        assert set(made) <= set(expected["core"])
        assert body["rings"][0]["layers"]["units"]["count"] == len(expected["core"])
    finally:
        with session_factory() as session, session.begin():
            session.execute(text("DELETE FROM units WHERE id = ANY(:ids)"), {"ids": list(made)})
