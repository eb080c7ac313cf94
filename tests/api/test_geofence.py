"""Geofence alerts over HTTP: a vehicle driven across a ring enters and leaves it once — with
jitter at the edge, a stray position, late and shuffled batches, a resend, batches at once —
nested rings alert each; incidents placed in a ring alert; a commander acknowledges once."""

from __future__ import annotations

import random
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from layers.accounts.roles import Role
from layers.accounts.service import Jurisdiction
from layers.audit.models import AuditRecord, Event
from layers.features.models import Precinct
from layers.settings import GeofenceSettings, Settings
from tests.utils.perimeters import busy_place, create_perimeter
from tests.utils.tracks import distance_from, east_of, new_vehicle, positions, post
from tests.utils.users import bearer, make_user

MARGIN_M, DWELL_S, RADIUS_M = 20.0, 10.0, 500.0


@pytest.fixture(scope="module")
def fence(settings: Settings, client: TestClient) -> Iterator[TestClient]:
    """An app whose geofence has a 20 m margin and a 10 s dwell."""
    geofence = GeofenceSettings(margin_m=MARGIN_M, dwell_s=DWELL_S)
    with TestClient(create_app(settings.model_copy(update={"geofence": geofence}))) as app:
        yield app


class Scene:
    """A perimeter in force now with a 500 m core around the busy place; who acts on it."""

    def __init__(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        with factory() as session:
            precinct, self.centre = busy_place(session)
            far = session.scalars(select(Precinct).where(Precinct.id != precinct.id)
                                  .order_by(Precinct.id.desc())).first()  # fmt: skip
            assert far is not None
        self.commander = bearer(client, make_user(factory, Role.COMMANDER))
        self.officer_name = make_user(factory, Role.OFFICER,
                                      Jurisdiction(precinct_code=precinct.code))  # fmt: skip
        self.officer = bearer(client, self.officer_name)
        self.stranger = bearer(client, make_user(factory, Role.OFFICER,
                                                 Jurisdiction(precinct_code=far.code)))  # fmt: skip
        now = datetime.now(UTC)
        self.window = {"starts_at": (now - timedelta(hours=2)).isoformat(),
                       "ends_at": (now + timedelta(hours=6)).isoformat()}  # fmt: skip
        middle = {"type": "Point", "coordinates": [self.centre.x, self.centre.y]}
        core = {"kind": "core", "buffer_m": RADIUS_M, "around": middle}
        self.perimeter = create_perimeter(client, self.commander, {
            "name": "地坛庙会安保", **self.window, "rings": [core]})["id"]  # fmt: skip

    def at(self, metres: float, north_m: float = 0.0) -> tuple[float, float]:
        """Return the place ``metres`` east of the centre (west if negative)."""
        return east_of(self.centre, metres, north_m)


@pytest.fixture(scope="module")
def scene(fence: TestClient, session_factory: sessionmaker[Session]) -> Scene:
    """The perimeter and people of this module."""
    return Scene(fence, session_factory)


def _alerts(client: TestClient, headers: dict[str, str], perimeter: int, feature: int,
            layer: str = "vehicles", **params: str) -> list[dict[str, Any]]:  # fmt: skip
    response = client.get("/api/alerts", headers=headers, params={
        "perimeter_id": perimeter, "layer": layer, "feature_id": feature, **params})  # fmt: skip
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["data"]
    return sorted(found, key=lambda a: a["id"])


def _kinds(alerts: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(a["ring"], a["kind"]) for a in alerts]


def _across(scene: Scene, *, step_m: float = 50.0, reach_m: float = 1500.0) -> list[Any]:
    """Return a drive from ``reach_m`` west of the centre to as far east, through it."""
    count = int(2 * reach_m / step_m) + 1
    return [scene.at(-reach_m + i * step_m) for i in range(count)]


def _start() -> datetime:
    return datetime.now(UTC) - timedelta(minutes=30)


def test_a_vehicle_driven_across_a_ring_enters_and_leaves_it_once(
    fence: TestClient, scene: Scene, session_factory: sessionmaker[Session]
) -> None:
    vehicle = new_vehicle(fence, scene.commander, scene.at(-3000.0))
    drive = positions(vehicle, _across(scene), _start())
    report = post(fence, scene.commander, random.Random(5).sample(drive, len(drive)))
    alerts = _alerts(fence, scene.commander, scene.perimeter, vehicle)
    assert _kinds(alerts) == [("core", "enter"), ("core", "exit")]
    assert {a["id"] for a in alerts} <= set(report["alert_ids"])
    enter, exit_ = alerts
    # counted deep inside (beyond the margin, after the dwell), and far outside
    assert distance_from(scene.centre, (enter["lon"], enter["lat"])) <= RADIUS_M - MARGIN_M
    assert distance_from(scene.centre, (exit_["lon"], exit_["lat"])) >= RADIUS_M + MARGIN_M
    for alert in alerts:
        since, at = datetime.fromisoformat(alert["since"]), datetime.fromisoformat(alert["at"])
        assert timedelta(seconds=DWELL_S) <= at - since < timedelta(seconds=DWELL_S + 5)
        assert alert["perimeter_name"] == "地坛庙会安保" and alert["ring_title"] == "核心区"
        assert alert["feature_name"].startswith("巡逻车") and alert["state"] == "open"
    with session_factory() as session:
        events = session.scalars(
            select(Event).where(Event.layer == "vehicles", Event.feature_id == vehicle,
                                Event.type.like("geofence.%")).order_by(Event.id)
        ).all()  # fmt: skip
    assert [(e.type, e.payload["alert_id"]) for e in events] == [
        ("geofence.enter", enter["id"]), ("geofence.exit", exit_["id"])]  # fmt: skip
    assert events[0].payload["perimeter_id"] == scene.perimeter
    assert events[0].payload["ring"] == "core"


def test_jitter_at_the_edge_and_a_stray_position_do_not_flap(
    fence: TestClient, scene: Scene
) -> None:
    vehicle = new_vehicle(fence, scene.commander, scene.at(-3000.0))
    west_edge = [scene.at(-RADIUS_M + (15.0 if i % 2 else -15.0)) for i in range(20)]
    stray = [scene.at(-RADIUS_M + 45.0), scene.at(-RADIUS_M - 5.0)]  # 45 m in, then back
    east_edge = [scene.at(RADIUS_M + (15.0 if i % 2 else -15.0)) for i in range(20)]
    inward = [scene.at(-RADIUS_M + 50.0 + i * 50.0) for i in range(19)]
    places = [scene.at(-1000.0), *west_edge, *stray, *west_edge, *inward, *east_edge,
              scene.at(1000.0), scene.at(1100.0), scene.at(1200.0)]  # fmt: skip
    post(fence, scene.commander, positions(vehicle, places, _start()))
    alerts = _alerts(fence, scene.commander, scene.perimeter, vehicle)
    assert _kinds(alerts) == [("core", "enter"), ("core", "exit")]


def test_late_and_shuffled_batches_and_a_resend_count_once(fence: TestClient, scene: Scene) -> None:
    vehicle = new_vehicle(fence, scene.commander, scene.at(-3000.0))
    start = _start()
    drive = positions(vehicle, _across(scene), start)
    quarters = [drive[i * 16 : (i + 1) * 16] for i in range(4)]  # 61 positions: the last has 13
    rng = random.Random(11)
    for quarter in (quarters[2], quarters[0], quarters[3], quarters[1], quarters[2]):
        post(fence, scene.commander, rng.sample(quarter, len(quarter)))
    alerts = _alerts(fence, scene.commander, scene.perimeter, vehicle)
    assert _kinds(alerts) == [("core", "enter"), ("core", "exit")]
    line = fence.get(f"/api/vehicles/{vehicle}/track", headers=scene.commander, params={
        "since": start.isoformat(), "until": datetime.now(UTC).isoformat()}).json()  # fmt: skip
    assert line["properties"]["positions"] == len(drive)
    times = line["properties"]["times"]
    assert times == sorted(times, key=datetime.fromisoformat)


def test_batches_of_one_vehicle_at_once_count_once(fence: TestClient, scene: Scene) -> None:
    vehicle = new_vehicle(fence, scene.commander, scene.at(-3000.0))
    drive = positions(vehicle, _across(scene), _start())
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(
            pool.map(
                lambda k: fence.post(
                    "/api/tracks", json={"positions": drive[k::4]}, headers=scene.commander
                ),
                range(4),
            )
        )
    assert [a.status_code for a in answers] == [200] * 4
    alerts = _alerts(fence, scene.commander, scene.perimeter, vehicle)
    assert _kinds(alerts) == [("core", "enter"), ("core", "exit")]


def test_a_visit_shorter_than_the_dwell_raises_nothing(fence: TestClient, scene: Scene) -> None:
    vehicle = new_vehicle(fence, scene.commander, scene.at(-3000.0))
    places = [scene.at(-800.0), scene.at(-600.0), scene.at(-440.0), scene.at(-440.0, 10.0),
              scene.at(-600.0), scene.at(-800.0)]  # 60 m inside for 5 s  # fmt: skip
    post(fence, scene.commander, positions(vehicle, places, _start()))
    assert _alerts(fence, scene.commander, scene.perimeter, vehicle) == []


def test_nested_rings_each_raise_their_own_alerts(fence: TestClient, scene: Scene) -> None:
    rings = [
        {"kind": "core", "buffer_m": 300.0,
         "around": {"type": "Point", "coordinates": [scene.centre.x, scene.centre.y]}},
        {"kind": "control", "around_core_m": 300.0},
        {"kind": "outer", "around_core_m": 700.0},
    ]  # fmt: skip
    nested = create_perimeter(fence, scene.commander, {
        "name": "三层圈", **scene.window, "rings": rings})["id"]  # fmt: skip
    vehicle = new_vehicle(fence, scene.commander, scene.at(-3000.0))
    post(fence, scene.commander, positions(vehicle, _across(scene), _start()))
    assert _kinds(_alerts(fence, scene.commander, nested, vehicle)) == [
        ("outer", "enter"), ("control", "enter"), ("core", "enter"),
        ("core", "exit"), ("control", "exit"), ("outer", "exit"),
    ]  # fmt: skip


def _incident(client: TestClient, headers: dict[str, str], where: tuple[float, float]) -> int:
    response = client.post("/api/layers/incidents/features", headers=headers, json={
        "geometry": {"type": "Point", "coordinates": list(where)},
        "properties": {"name": "庙会现场斗殴", "category": "fight",
                       "occurred_at": datetime.now(UTC).isoformat()}})  # fmt: skip
    assert response.status_code == 201, response.text
    incident: int = response.json()["id"]
    return incident


def _move(client: TestClient, headers: dict[str, str], incident: int, body: dict[str, Any]) -> None:
    path = f"/api/layers/incidents/features/{incident}"
    etag = client.get(path, headers=headers).headers["etag"]
    moved = client.patch(path, json=body, headers={**headers, "If-Match": etag})
    assert moved.status_code == 200, moved.text


def test_an_incident_in_a_ring_raises_one_alert_and_moved_out_another(
    fence: TestClient, scene: Scene
) -> None:
    inside = _incident(fence, scene.commander, scene.at(100.0, 50.0))
    outside = _incident(fence, scene.commander, scene.at(2000.0))
    assert _kinds(_alerts(fence, scene.commander, scene.perimeter, inside, "incidents")) == [
        ("core", "enter")]  # fmt: skip
    assert _alerts(fence, scene.commander, scene.perimeter, outside, "incidents") == []
    _move(fence, scene.commander, inside, {"properties": {"status": "handling"}})
    _move(
        fence,
        scene.commander,
        inside,
        {"geometry": {"type": "Point", "coordinates": list(scene.at(-900.0))}},
    )
    assert _kinds(_alerts(fence, scene.commander, scene.perimeter, inside, "incidents")) == [
        ("core", "enter"), ("core", "exit")]  # fmt: skip


def test_a_commander_acknowledges_an_alert_once_and_it_is_audited(
    fence: TestClient, scene: Scene, session_factory: sessionmaker[Session]
) -> None:
    incident = _incident(fence, scene.commander, scene.at(0.0, -100.0))
    (alert,) = _alerts(fence, scene.commander, scene.perimeter, incident, "incidents",
                       state="open")  # fmt: skip
    assert alert in _alerts(fence, scene.officer, scene.perimeter, incident, "incidents")
    assert _alerts(fence, scene.stranger, scene.perimeter, incident, "incidents") == []
    refused = fence.post(f"/api/alerts/{alert['id']}/ack", headers=scene.officer)
    assert refused.status_code == 403 and "alerts:ack" in refused.json()["detail"]

    done = fence.post(f"/api/alerts/{alert['id']}/ack", headers=scene.commander)
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "acknowledged" and done.json()["acknowledged_by"]
    again = fence.post(f"/api/alerts/{alert['id']}/ack", headers=scene.commander)
    assert again.status_code == 409 and "was acknowledged by" in again.json()["detail"]
    assert _alerts(fence, scene.commander, scene.perimeter, incident, "incidents",
                   state="open") == []  # fmt: skip
    assert fence.post("/api/alerts/999999999/ack", headers=scene.commander).status_code == 404
    with session_factory() as session:
        audits = session.scalars(
            select(AuditRecord).where(AuditRecord.action == "alert.ack",
                                      AuditRecord.target_id == str(alert["id"]))
            .order_by(AuditRecord.id)
        ).all()  # fmt: skip
        acknowledged = session.scalars(select(Event).where(
            Event.type == "alert.acknowledged", Event.feature_id == incident)).all()  # fmt: skip
        refused = session.scalars(  # the officer's try, refused by the route's rule
            select(AuditRecord.result).where(
                AuditRecord.action == "access.denied", AuditRecord.actor_name == scene.officer_name,
                AuditRecord.detail.startswith(f"POST /api/alerts/{alert['id']}/ack "))
        ).all()  # fmt: skip
    assert refused == ["denied"]
    assert [(a.result, a.actor_name == scene.officer_name) for a in audits] == [("ok", False)]
    assert audits[0].after is not None and audits[0].after["state"] == "acknowledged"
    assert len(acknowledged) == 1 and acknowledged[0].payload["alert_id"] == alert["id"]
