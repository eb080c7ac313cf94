"""Map selections by ids, box, lasso and radius, with filters and scope; actions on them."""

from __future__ import annotations

import csv
import io
import math
from typing import Any

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import Point, Polygon, mapping, shape
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from geo.measure import area_m2
from layers.accounts.roles import Role
from layers.accounts.service import Jurisdiction
from tests.utils.perimeters import busy_place, create_perimeter, perimeter_body
from tests.utils.users import bearer, make_user


def _lasso(centre: Point) -> Polygon:
    """Return a freehand-like loop of 16 points, 900-1,500 m from ``centre``."""
    points = []
    for k in range(16):
        reach = 900 + 600 * ((k * 7) % 5) / 4
        angle = 2 * math.pi * k / 16
        points.append((centre.x + reach * math.cos(angle) / 85_000,
                       centre.y + reach * math.sin(angle) / 111_000))  # fmt: skip
    return Polygon(points)


class Scene:
    """A commander, an officer of the busiest precinct, and a lasso drawn around its middle."""

    def __init__(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        with factory() as session:
            self.precinct, self.centre = busy_place(session)
        self.commander = bearer(client, make_user(factory, Role.COMMANDER))
        here = Jurisdiction(precinct_code=self.precinct.code)
        self.officer = bearer(client, make_user(factory, Role.OFFICER, here))
        self.lasso = _lasso(self.centre)


@pytest.fixture(scope="module")
def scene(client: TestClient, session_factory: sessionmaker[Session]) -> Scene:
    """This module's people and shapes."""
    return Scene(client, session_factory)


def _select(client: TestClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = client.post("/api/selections", json=body, headers=headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _ids(factory: sessionmaker[Session], sql: str, **params: Any) -> list[int]:
    with factory() as session:
        return list(session.scalars(text(sql + " ORDER BY id"), params))


def test_a_lasso_selects_what_it_intersects_in_each_layer(
    client: TestClient, scene: Scene, session_factory: sessionmaker[Session]
) -> None:
    body = _select(client, scene.commander, layers=["units", "incidents", "construction_sites"],
                   lasso=mapping(scene.lasso))  # fmt: skip
    for layer in ("units", "incidents", "construction_sites"):
        inside = "ST_Intersects(geom, ST_GeomFromText(:wkt, 4326))"
        expected = _ids(session_factory, f"SELECT id FROM {layer} WHERE {inside}",
                        wkt=scene.lasso.wkt)  # fmt: skip
        got = body["layers"][layer]
        assert got["count"] == len(expected) and got["ids"] == expected and not got["truncated"]
    assert body["layers"]["units"]["count"] > 0
    assert body["count"] == sum(layer["count"] for layer in body["layers"].values())


def test_a_box_with_filters_and_a_limit(
    client: TestClient, scene: Scene, session_factory: sessionmaker[Session]
) -> None:
    c = scene.centre
    box = [c.x - 0.02, c.y - 0.02, c.x + 0.02, c.y + 0.02]
    filters = {"units": {"risk_level": "2..4", "category": "company,hotel,school"}}
    body = _select(client, scene.commander, layers=["units"], box=box, filters=filters, limit=3)
    expected = _ids(session_factory, "SELECT id FROM units WHERE risk_level BETWEEN 2 AND 4 "
                    "AND category IN ('company', 'hotel', 'school') "
                    "AND ST_Intersects(geom, ST_MakeEnvelope(:a, :b, :c, :d, 4326))",
                    a=box[0], b=box[1], c=box[2], d=box[3])  # fmt: skip
    units = body["layers"]["units"]
    assert units["count"] == len(expected) > 3
    assert units["ids"] == expected[:3] and units["truncated"]


def test_a_radius_is_geodesic(
    client: TestClient, scene: Scene, session_factory: sessionmaker[Session]
) -> None:
    c = scene.centre
    body = _select(client, scene.commander, layers=["units", "bus_stations"],
                   point=[c.x, c.y], radius_m=1500)  # fmt: skip
    for layer in ("units", "bus_stations"):
        near = "ST_DWithin(geom::geography, ST_SetSRID(ST_Point(:x, :y), 4326)::geography, 1500)"
        expected = _ids(session_factory, f"SELECT id FROM {layer} WHERE {near}", x=c.x, y=c.y)
        assert body["layers"][layer]["ids"] == expected


def test_clicked_ids_are_kept_only_where_the_officer_may_see(
    client: TestClient, scene: Scene, session_factory: sessionmaker[Session]
) -> None:
    mine = _ids(session_factory, "SELECT id FROM units WHERE precinct_id = :p", p=scene.precinct.id)
    other = _ids(
        session_factory, "SELECT id FROM units WHERE precinct_id <> :p", p=scene.precinct.id
    )
    clicked = {"units": [*mine[:2], other[0]]}
    as_officer = _select(client, scene.officer, layers=["units"], ids=clicked)
    as_commander = _select(client, scene.commander, layers=["units"], ids=clicked)
    assert as_officer["layers"]["units"] == {"count": 2, "ids": mine[:2], "truncated": False}
    assert as_commander["layers"]["units"]["ids"] == sorted(clicked["units"])


BAD = {
    "two ways at once": {"layers": ["units"], "box": [116.3, 39.8, 116.4, 39.9],
                         "ids": {"units": [1]}},
    "none": {"layers": ["units"]},
    "an upside-down box": {"layers": ["units"], "box": [116.4, 39.9, 116.3, 39.8]},
    "a line as lasso": {"layers": ["units"], "lasso": {
        "type": "LineString", "coordinates": [[116.3, 39.9], [116.4, 39.9]]}},
    "a radius of zero": {"layers": ["units"], "point": [116.39, 39.9], "radius_m": 0},
    "a point without radius": {"layers": ["units"], "point": [116.39, 39.9]},
    "a lasso outside China": {"layers": ["units"], "lasso": mapping(_lasso(Point(2.35, 48.85)))},
    "filters of a layer not selected": {"layers": ["units"], "box": [116.3, 39.8, 116.4, 39.9],
                                        "filters": {"incidents": {"level": "3"}}},
    "an unknown filter": {"layers": ["units"], "box": [116.3, 39.8, 116.4, 39.9],
                          "filters": {"units": {"colour": "red"}}},
}  # fmt: skip


@pytest.mark.parametrize("problem", sorted(BAD))
def test_a_bad_selection_is_a_422(client: TestClient, scene: Scene, problem: str) -> None:
    response = client.post("/api/selections", json=BAD[problem], headers=scene.commander)
    assert response.status_code == 422, response.text
    assert response.json()["detail"]


def test_tasks_a_notice_and_a_file_for_a_selection(
    client: TestClient, scene: Scene, session_factory: sessionmaker[Session]
) -> None:
    selection = {"layers": ["units"], "lasso": mapping(scene.lasso),
                 "filters": {"units": {"category": "hotel,mall,school"}}}  # fmt: skip
    ids = _select(client, scene.commander, **selection)["layers"]["units"]["ids"]
    assert ids
    task = {"title": "巡查", "details": {"task_kind": "inspection"}}
    made = client.post("/api/selections/tasks", json={"selection": selection, "task": task},
                       headers=scene.commander)  # fmt: skip
    assert made.status_code == 201 and made.json()["count"] == len(ids), made.text
    notice = {"title": "安全提示", "body": "请加强节日值守。"}
    sent = client.post("/api/selections/notices", json={"selection": selection, "notice": notice},
                       headers=scene.commander)  # fmt: skip
    assert sent.status_code == 201, sent.text
    with session_factory() as session:
        linked = sorted(session.scalars(text(
            "SELECT feature_id FROM record_links WHERE record_id = :r AND layer = 'units'"
        ), {"r": sent.json()["id"]}))  # fmt: skip
    assert linked == ids
    exported = client.post("/api/selections/export", params={"format": "csv"},
                           json={"selection": selection}, headers=scene.commander)  # fmt: skip
    assert exported.status_code == 200
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [int(r["id"]) for r in rows] == ids and {r["layer_title"] for r in rows} == {"单位"}


def test_a_lasso_becomes_a_perimeters_ring(client: TestClient, scene: Scene) -> None:
    perimeter = create_perimeter(client, scene.commander, perimeter_body(scene.centre))
    body = {"selection": {"layers": ["units"], "lasso": mapping(scene.lasso)},
            "perimeter_id": perimeter["id"], "kind": "control"}  # fmt: skip
    assert client.post("/api/selections/perimeter", json=body,
                       headers=scene.commander).status_code == 428  # fmt: skip
    response = client.post("/api/selections/perimeter", json=body,
                           headers=scene.commander | {"If-Match": '"1"'})  # fmt: skip
    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["version"] == 2
    control = next(r for r in changed["rings"] if r["kind"] == "control")
    # the lasso's own vertices, with more along its edges' geodesics (within a metre)
    assert shape(control["geometry"]).hausdorff_distance(scene.lasso) < 1e-5
    assert control["area_m2"] == pytest.approx(area_m2(scene.lasso), rel=1e-4)
    # the other rings stay as drawn
    before = {r["kind"]: r["drawn"] for r in perimeter["rings"]}
    assert {r["kind"]: r["drawn"] for r in changed["rings"] if r["kind"] != "control"} == {
        k: v for k, v in before.items() if k != "control"
    }
    clicked = {**body, "selection": {"layers": ["units"], "ids": {"units": [1]}}}
    refused = client.post("/api/selections/perimeter", json=clicked,
                          headers=scene.commander | {"If-Match": '"2"'})  # fmt: skip
    assert refused.status_code == 422


def test_a_lasso_finds_units_written_without_their_cell(
    client: TestClient, scene: Scene, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session, session.begin():
        made = session.scalar(text(
            "INSERT INTO units (name, category, risk_level, is_key_unit, geom, h3_cell) VALUES "
            "('无格单位', 'hotel', 1, false, ST_SetSRID(ST_Point(:x, :y), 4326), NULL) RETURNING id"
        ), {"x": scene.centre.x, "y": scene.centre.y})  # fmt: skip
    try:
        body = _select(client, scene.commander, layers=["units"], lasso=mapping(scene.lasso))
        assert made in body["layers"]["units"]["ids"]
    finally:
        with session_factory() as session, session.begin():
            session.execute(text("DELETE FROM units WHERE id = :id"), {"id": made})
