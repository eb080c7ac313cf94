"""Records follow their place: a redrawn boundary or a moved unit takes its records along."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import MultiPolygon, box, mapping
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from geo.tiling import tile_bounds_wgs84
from layers.accounts.roles import Role
from layers.accounts.service import Jurisdiction
from tests.tiles.area import Area, build_area
from tests.utils.users import bearer, make_user

ROLLUP = """
SELECT topic, kind, state, district_id, precinct_id, n FROM record_counts WHERE n <> 0
EXCEPT ALL
SELECT topic, kind, state, coalesce(district_id, -1), coalesce(precinct_id, -1), count(*)
FROM records GROUP BY 1, 2, 3, 4, 5
"""


@pytest.fixture(scope="module")
def area(session_factory: sessionmaker[Session], client: TestClient) -> Area:
    """This module's own district, split into a west and an east precinct."""
    return build_area(session_factory, 106.05, 30.05)


class People:
    """A commander and the officers of the area's two precincts."""

    def __init__(self, client: TestClient, factory: sessionmaker[Session], area: Area) -> None:
        self.commander = bearer(client, make_user(factory, Role.COMMANDER))
        self.west, self.east = (
            bearer(client, make_user(factory, Role.OFFICER, Jurisdiction(precinct_code=code)))
            for code in (area.west_precinct_code, area.east_precinct_code)
        )
        with factory() as session:
            self.precinct_ids = {code: session.scalar(
                text("SELECT id FROM precincts WHERE code = :c"), {"c": code}
            ) for code in (area.west_precinct_code, area.east_precinct_code)}  # fmt: skip


def _where(client: TestClient, headers: dict[str, str], record_id: int) -> int | None:
    """The precinct of a record its reader sees, None when the reader may not see it."""
    response = client.get(f"/api/records/{record_id}", headers=headers)
    assert response.status_code in (200, 404), response.text
    return response.json()["precinct_id"] if response.status_code == 200 else None


def _counted(client: TestClient, headers: dict[str, str], **params: str) -> list[dict[str, Any]]:
    response = client.get("/api/stats/records", params=params, headers=headers)
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["data"]
    return rows


def _stats_equal_sql(client: TestClient, people: People, factory: sessionmaker[Session]) -> None:
    """Every figure of the two precincts equals a count of the records; so does the rollup."""
    by_precinct = {r["precinct"]: r["count"]
                   for r in _counted(client, people.commander, group_by="precinct")}  # fmt: skip
    with factory() as session:
        for officer, precinct_id in zip((people.west, people.east),
                                        people.precinct_ids.values(), strict=True):  # fmt: skip
            expected = session.scalar(
                text("SELECT count(*) FROM records WHERE precinct_id = :p"), {"p": precinct_id}
            )
            assert by_precinct.get(precinct_id, 0) == expected
            assert sum(r["count"] for r in _counted(client, officer, group_by="kind")) == expected
        assert session.execute(text(ROLLUP)).all() == []


def _precinct(client: TestClient, headers: dict[str, str], precinct_id: int, shape: Any) -> None:
    """Redraw a precinct through the feature API."""
    url = f"/api/layers/precincts/features/{precinct_id}"
    current = client.get(url, headers=headers)
    assert current.status_code == 200, current.text
    response = client.patch(url, json={"geometry": mapping(MultiPolygon([shape]))},
                            headers={**headers, "If-Match": current.headers["etag"]})  # fmt: skip
    assert response.status_code == 200, response.text


def test_a_units_records_follow_a_redrawn_boundary_and_a_move(
    client: TestClient, session_factory: sessionmaker[Session], area: Area
) -> None:
    people = People(client, session_factory, area)
    west_id, east_id = people.precinct_ids.values()
    unit = area.unit_ids[27]  # at 0.42 of the tile's width: west of the middle
    made = []
    for url, details in (("/api/hazards", {"level": 2, "category": "fire"}),
                         ("/api/tasks", {"task_kind": "inspection"})):  # fmt: skip
        response = client.post(url, headers=people.commander, json={
            "title": "辖区调整前的记录", "topic": "internal_security",
            "features": [{"layer": "units", "id": unit}], "details": details,
        })  # fmt: skip
        assert response.status_code == 201, response.text
        made.append(response.json()["id"])
    for record in made:
        assert _where(client, people.west, record) == west_id
        assert _where(client, people.east, record) is None
    _stats_equal_sql(client, people, session_factory)

    # the boundary moves west of the unit: west shrinks, east grows, through the API
    z, x, y = area.tile
    west, south, east, north = tile_bounds_wgs84(z, x, y)
    width, height = east - west, north - south
    edge = west + 0.3 * width
    outer = (west - 3 * width, south - 3 * height, east + 3 * width, north + 3 * height)
    _precinct(client, people.commander, west_id, box(outer[0], outer[1], edge, outer[3]))
    _precinct(client, people.commander, east_id, box(edge, outer[1], outer[2], outer[3]))
    for record in made:
        assert _where(client, people.east, record) == east_id
        assert _where(client, people.west, record) is None
    timeline = client.get(f"/api/layers/units/features/{unit}/records", headers=people.east)
    assert {r["id"] for r in timeline.json()["data"]} >= set(made)
    _stats_equal_sql(client, people, session_factory)

    # the unit moves back west of the new boundary: its records go with it, point and all
    target = (west + 0.1 * width, south + 0.5 * height)
    current = client.get(f"/api/layers/units/features/{unit}", headers=people.commander)
    moved = client.patch(
        f"/api/layers/units/features/{unit}",
        json={"geometry": {"type": "Point", "coordinates": list(target)}},
        headers={**people.commander, "If-Match": current.headers["etag"]},
    )
    assert moved.status_code == 200, moved.text
    for record in made:
        assert _where(client, people.west, record) == west_id
        assert _where(client, people.east, record) is None
        read = client.get(f"/api/records/{record}", headers=people.commander).json()
        assert read["location"] == pytest.approx(list(target))
    _stats_equal_sql(client, people, session_factory)
