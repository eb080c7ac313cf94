"""The units' cell counts stay right through every write, so the contents still equal PostGIS."""

from __future__ import annotations

from collections import Counter
from typing import Any

from fastapi.testclient import TestClient
from shapely.geometry import Point
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from layers.accounts.roles import Role
from tests.utils.perimeters import (
    CELL_COUNT_DRIFT,
    busy_place,
    create_perimeter,
    innermost,
    perimeter_body,
)
from tests.utils.users import bearer, make_user

M_PER_DEG = 111_320.0


def _north(centre: Point, metres: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [centre.x, centre.y + metres / M_PER_DEG]}


def _check(client: TestClient, factory: sessionmaker[Session], perimeter_id: int,
           headers: dict[str, str]) -> dict[str, list[int]]:  # fmt: skip
    """Assert the counts agree with the units and the contents with PostGIS; return the
    units of each ring by PostGIS."""
    with factory() as session:
        assert session.scalar(text(CELL_COUNT_DRIFT)) == 0
        expected = innermost(session, perimeter_id, "units")
        every = [i for ids in expected.values() for i in ids]
        risks: dict[int, int] = dict(session.execute(
            text("SELECT id, risk_level FROM units WHERE id = ANY(:i)"), {"i": every}
        ).all())  # fmt: skip
    response = client.get(f"/api/perimeters/{perimeter_id}/contents",
                          params={"layers": "units", "limit": 3}, headers=headers)  # fmt: skip
    assert response.status_code == 200, response.text
    for ring in response.json()["rings"]:
        got, ids = ring["layers"]["units"], expected.get(ring["kind"], [])
        assert got["count"] == len(ids), ring["kind"]
        assert got["groups"]["risk_level"] == {str(k): n for k, n in
                                               Counter(risks[i] for i in ids).items()}  # fmt: skip
        assert [f["id"] for f in got["features"]["features"]] == ids[:3], ring["kind"]
    return expected


def test_counts_follow_units_made_moved_rerisked_and_deleted(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        _, centre = busy_place(session)
    planner = bearer(client, make_user(session_factory, Role.PLANNER))
    admin = bearer(client, make_user(session_factory, Role.ADMIN))
    perimeter = create_perimeter(client, planner, perimeter_body(centre))["id"]
    made = []
    # the middle of the core, of the control ring and of the outer ring: cells wholly
    # inside one ring, counted from the cell counts
    for metres, risk in ((0.0, 4), (1300.0, 3), (3000.0, 4)):
        body = {
            "geometry": _north(centre, metres),
            "properties": {"name": "计数测试单位", "category": "hospital", "risk_level": risk},
        }
        response = client.post("/api/layers/units/features", json=body, headers=admin)
        assert response.status_code == 201, response.text
        made.append(response.json()["id"])
    rings = _check(client, session_factory, perimeter, planner)
    assert [i in rings[k] for i, k in zip(made, ("core", "control", "outer"), strict=True)] == [
        True, True, True]  # fmt: skip
    url = f"/api/layers/units/features/{made[0]}"
    moved = client.patch(url, headers={**admin, "If-Match": '"1"'},
                         json={"geometry": _north(centre, 3000.0)})  # fmt: skip
    assert moved.status_code == 200, moved.text
    rings = _check(client, session_factory, perimeter, planner)
    assert made[0] in rings["outer"]
    rerisked = client.patch(url, headers={**admin, "If-Match": '"2"'},
                            json={"properties": {"risk_level": 1}})  # fmt: skip
    assert rerisked.status_code == 200, rerisked.text
    _check(client, session_factory, perimeter, planner)
    for unit, version in zip(made, (3, 1, 1), strict=True):
        deleted = client.delete(f"/api/layers/units/features/{unit}",
                                headers={**admin, "If-Match": f'"{version}"'})  # fmt: skip
        assert deleted.status_code == 204, deleted.text
    rings = _check(client, session_factory, perimeter, planner)
    assert not set(made) & {i for ids in rings.values() for i in ids}


def test_counts_follow_writes_by_sql_in_one_statement(
    session_factory: sessionmaker[Session],
) -> None:
    # many rows of one statement, moved between cells and precincts, and then deleted:
    # what a bulk update or the jurisdiction's reassignment does
    with session_factory() as session, session.begin():
        made = session.scalars(text(
            "INSERT INTO units (name, category, risk_level, is_key_unit, geom, h3_cell) "
            "SELECT '批量单位', 'school', 1 + n % 4, false, geom, h3_cell FROM "
            "(SELECT row_number() OVER () AS n, geom, h3_cell FROM units "
            " WHERE h3_cell IS NOT NULL LIMIT 50) AS picked RETURNING id"
        )).all()  # fmt: skip
    with session_factory() as session:
        assert session.scalar(text(CELL_COUNT_DRIFT)) == 0
    with session_factory() as session, session.begin():
        session.execute(text(
            "UPDATE units AS u SET h3_cell = o.h3_cell, geom = o.geom, precinct_id = o.precinct_id,"
            " district_id = o.district_id, risk_level = 5 - u.risk_level "
            "FROM (SELECT geom, h3_cell, precinct_id, district_id FROM units "
            "      WHERE h3_cell IS NOT NULL ORDER BY id DESC LIMIT 1) AS o "
            "WHERE u.id = ANY(:ids)"
        ), {"ids": list(made)})  # fmt: skip
    with session_factory() as session:
        assert session.scalar(text(CELL_COUNT_DRIFT)) == 0
    with session_factory() as session, session.begin():
        session.execute(text("DELETE FROM units WHERE id = ANY(:ids)"), {"ids": list(made)})
    with session_factory() as session:
        assert session.scalar(text(CELL_COUNT_DRIFT)) == 0
