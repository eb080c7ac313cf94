"""Replay of the event log and the city at a past instant, over the last 24 hours."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import Point as ShapelyPoint
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from api.schemas.events import EventsPublic
from api.schemas.state import StatePublic
from layers.accounts.roles import Role
from layers.accounts.service import Jurisdiction
from layers.settings import Settings
from tests.utils.events import (
    Place,
    box_around,
    create_incident,
    fast,
    new_task,
    two_places,
)
from tests.utils.servers import served
from tests.utils.sse import open_stream
from tests.utils.tracks import east_of, new_vehicle, positions, post
from tests.utils.users import bearer, make_user


@pytest.fixture(scope="module")
def commander(client: TestClient, session_factory: sessionmaker[Session]) -> dict[str, str]:
    """A city-wide commander's credentials."""
    return bearer(client, make_user(session_factory, Role.COMMANDER))


@pytest.fixture(scope="module")
def places(session_factory: sessionmaker[Session], city: None) -> tuple[Place, Place]:
    """Two precincts with units."""
    with session_factory() as session:
        return two_places(session)


@pytest.fixture(scope="module")
def server(settings: Settings, city: None) -> Iterator[str]:
    """A worker serving streams on a real socket."""
    with served(create_app(fast(settings))) as url:
        yield url


def replay(client: TestClient, headers: dict[str, str], **params: Any) -> EventsPublic:
    """Return every page of a replay, followed through its next links, as one page."""
    response = client.get("/api/events", params=params, headers=headers)
    pages = []
    while True:
        assert response.status_code == 200, response.text
        pages.append(EventsPublic.model_validate(response.json()))
        if pages[-1].next is None:
            break
        response = client.get(pages[-1].next, headers=headers)
    return EventsPublic(data=[e for p in pages for e in p.data], since=pages[0].since,
                        until=pages[0].until, next=None)  # fmt: skip


def state_at(
    client: TestClient, headers: dict[str, str], at: datetime, **params: Any
) -> StatePublic:
    """Return the city at ``at``, checked against its schema."""
    response = client.get("/api/state", params={"at": at.isoformat(), **params}, headers=headers)
    assert response.status_code == 200, response.text
    return StatePublic.model_validate(response.json())


def test_replay_returns_what_the_stream_delivered(
    server: str, client: TestClient, commander: dict[str, str], places: tuple[Place, Place]
) -> None:
    point = places[0].unit_points[0]  # the task about the unit is there too
    params = {"types": "feature,record", "bbox": box_around(point)}
    started = datetime.now(UTC)
    with open_stream(server, commander, **params) as stream:
        made = [create_incident(client, commander, point) for _ in range(3)]
        client.patch(f"/api/layers/incidents/features/{made[0]}", headers={
            **commander, "If-Match": '"1"'}, json={"properties": {"status": "closed"}})  # fmt: skip
        new_task(client, commander, places[0].units[0])
        streamed = [m.json() for m in stream.events(5)]
    replayed = replay(client, commander, limit=2, **{"from": started.isoformat()}, **params)
    assert [e.model_dump(mode="json") for e in replayed.data] == streamed


def test_replay_is_scoped_like_the_stream(
    client: TestClient, session_factory: sessionmaker[Session], commander: dict[str, str],
    places: tuple[Place, Place],
) -> None:  # fmt: skip
    here, there = places
    officer = bearer(client, make_user(session_factory, Role.OFFICER,
                                       Jurisdiction(precinct_code=here.precinct.code)))  # fmt: skip
    started = datetime.now(UTC)
    mine = create_incident(client, commander, here.point)
    create_incident(client, commander, there.point)
    seen = replay(client, officer, types="feature", layers="incidents",
                  **{"from": started.isoformat()})  # fmt: skip
    assert [e.feature_id for e in seen.data] == [mine]


def test_replay_reaches_back_over_the_window_only(
    client: TestClient, commander: dict[str, str]
) -> None:
    now = datetime.now(UTC)
    earlier = replay(
        client, commander, types="nothing", **{"from": (now - timedelta(days=3)).isoformat()}
    )
    assert earlier.since >= now - timedelta(hours=24)  # moved to the window's start
    backwards = client.get("/api/events", headers=commander, params={
        "from": now.isoformat(), "to": (now - timedelta(hours=1)).isoformat()})  # fmt: skip
    assert backwards.status_code == 422, backwards.text
    too_old = client.get("/api/state", headers=commander,
                         params={"at": (now - timedelta(hours=25)).isoformat()})  # fmt: skip
    assert too_old.status_code == 422 and "24 h" in too_old.json()["detail"]


def _transition(client: TestClient, headers: dict[str, str], task: dict[str, Any],
                action: str) -> dict[str, Any]:  # fmt: skip
    response = client.post(f"/api/tasks/{task['id']}/transitions", json={"action": action},
                           headers={**headers, "If-Match": f'"{task["version"]}"'})  # fmt: skip
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_task_is_open_between_its_opening_and_its_closing(
    client: TestClient, commander: dict[str, str], places: tuple[Place, Place]
) -> None:
    task = new_task(client, commander, places[1].units[0])
    task = _transition(client, commander, task, "assign")
    task = _transition(client, commander, task, "cancel")
    opened, assigned, closed = (datetime.fromisoformat(h["at"]) for h in task["history"])
    assert opened < assigned < closed

    def open_tasks(at: datetime) -> dict[int, str]:
        found = state_at(client, commander, at, kinds="task").records.features
        return {f.id: f.properties.state for f in found}

    assert task["id"] not in open_tasks(opened - timedelta(microseconds=1))
    assert open_tasks(opened + (assigned - opened) / 2)[task["id"]] == "draft"
    assert open_tasks(assigned + (closed - assigned) / 2)[task["id"]] == "assigned"
    assert task["id"] not in open_tasks(closed)
    assert task["id"] not in open_tasks(datetime.now(UTC))


def test_an_incident_stands_as_it_stood_then(
    client: TestClient, commander: dict[str, str], places: tuple[Place, Place]
) -> None:
    point = places[1].point
    incident = create_incident(client, commander, point)
    moved_to = (point[0] + 0.001, point[1])
    between = datetime.now(UTC)  # after the incident was written, before it is written again
    written = client.patch(f"/api/layers/incidents/features/{incident}", headers={
        **commander, "If-Match": '"1"'}, json={"properties": {"status": "closed"},
        "geometry": {"type": "Point", "coordinates": list(moved_to)}})  # fmt: skip
    assert written.status_code == 200, written.text
    before = state_at(client, commander, between, bbox=box_around(point))
    then = {f.id: f for f in before.incidents.features}[incident]
    assert then.properties.status == "open" and then.properties.changed_since
    assert then.geometry is not None and then.geometry.coordinates == pytest.approx(point)
    now = state_at(client, commander, datetime.now(UTC), bbox=box_around(moved_to))
    current = {f.id: f for f in now.incidents.features}[incident]
    assert current.properties.status == "closed" and not current.properties.changed_since


def test_a_vehicle_stands_at_its_last_position_before_the_instant(
    client: TestClient, commander: dict[str, str], places: tuple[Place, Place]
) -> None:
    centre = ShapelyPoint(places[0].point)
    vehicle = new_vehicle(client, commander, east_of(centre, 0))
    start = datetime.now(UTC) - timedelta(minutes=30)
    route = [east_of(centre, 100.0 * i) for i in range(4)]
    post(client, commander, positions(vehicle, route, start, every_s=300))  # 0, 5, 10, 15 min

    def where(at: datetime) -> Any:
        found = {f.id: f for f in state_at(client, commander, at).vehicles.features}
        return found.get(vehicle)

    between = where(start + timedelta(minutes=7))  # the fix of minute 5
    assert between.geometry.coordinates == pytest.approx(route[1])
    assert datetime.fromisoformat(str(between.properties.position_at)) == start + timedelta(
        minutes=5
    )
    assert where(start - timedelta(minutes=1)) is None  # nothing reported yet
    assert where(start + timedelta(minutes=15 + 11)) is None  # the last fix is over 10 min old


def test_a_bulk_of_records_is_replayed_to_the_officers_it_concerns(
    client: TestClient, session_factory: sessionmaker[Session], commander: dict[str, str],
    places: tuple[Place, Place],
) -> None:  # fmt: skip
    here = places[0]
    officers = [
        bearer(client, make_user(session_factory, Role.OFFICER,
                                 Jurisdiction(precinct_code=place.precinct.code)))
        for place in places
    ]  # fmt: skip
    started = datetime.now(UTC).isoformat()
    body = {"title": "流测试批量任务", "topic": "internal_security",
            "features": [{"layer": "units", "id": unit} for unit in here.units]}  # fmt: skip
    made = client.post("/api/tasks/bulk", json=body, headers=commander)
    assert made.status_code == 201, made.text
    ids = made.json()["ids"]
    mine, theirs = (replay(client, officer, types="record.bulk_created", **{"from": started})
                    for officer in officers)  # fmt: skip
    assert [(e.payload["first_id"], e.payload["last_id"]) for e in mine.data] == [
        (min(ids), max(ids))
    ]
    assert theirs.data == []
