"""On-site work from a phone: nearby units, check-ins near a unit and not far from it, and
writes resent under one Idempotency-Key that happen once."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from geoalchemy2.shape import to_shape
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from geo import measure
from layers.accounts.roles import Role
from layers.accounts.service import Jurisdiction
from layers.features.models import Unit
from tests.utils.places import precincts_with_units
from tests.utils.users import bearer, make_user

RADIUS_M = 300.0  # WARROOM_FIELDWORK_CHECK_IN_RADIUS_M's default


class Scene:
    """An officer of a precinct, a unit there and where it stands, a unit of another precinct."""

    def __init__(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        with factory() as session:
            here, elsewhere = precincts_with_units(session)[:2]
            unit = session.scalars(
                select(Unit).where(Unit.precinct_id == here.id).order_by(Unit.id)
            ).first()
            other = session.scalars(
                select(Unit).where(Unit.precinct_id == elsewhere.id).order_by(Unit.id)
            ).first()
            assert unit is not None and other is not None
            self.unit_id, self.other_id = unit.id, other.id
            self.lon, self.lat = to_shape(unit.geom).coords[0]
        self.officer = bearer(client, make_user(factory, Role.OFFICER,
                                                Jurisdiction(precinct_code=here.code)))  # fmt: skip
        self.planner = bearer(client, make_user(factory, Role.PLANNER))

    def north(self, metres: float) -> list[float]:
        """Return the point ``metres`` north of the unit."""
        return [self.lon, self.lat + metres / 111_000]


@pytest.fixture(scope="module")
def scene(client: TestClient, session_factory: sessionmaker[Session]) -> Scene:
    """The people and places of this module."""
    return Scene(client, session_factory)


def _check_in(scene: Scene, position: list[Any], **extra: Any) -> dict[str, Any]:
    return {"layer": "units", "feature_id": scene.unit_id, "position": position, **extra}


def _audit(factory: sessionmaker[Session], action: str, result: str, target: int) -> int:
    with factory() as session:
        return int(session.scalar(text(
            "SELECT count(*) FROM audit_log WHERE action = :a AND result = :r"
            " AND target_id = :t"
        ), {"a": action, "r": result, "t": str(target)}) or 0)  # fmt: skip


def test_nearby_units_come_nearest_first_with_their_distance(
    client: TestClient, scene: Scene
) -> None:
    point = f"{scene.lon + 0.0004},{scene.lat}"
    page = client.get("/api/layers/units/nearest", params={"point": point, "k": 5},
                      headers=scene.officer)  # fmt: skip
    assert page.status_code == 200, page.text
    features = page.json()["features"]
    distances = [f["properties"]["distance_m"] for f in features]
    assert distances == sorted(distances) and len(features) >= 3  # the precinct holds 3 or more
    truth = measure.distance_m(scene.lon + 0.0004, scene.lat, scene.lon, scene.lat)
    mine = next(f for f in features if f["id"] == scene.unit_id)
    assert mine["properties"]["distance_m"] == pytest.approx(truth, abs=0.5)


def test_a_check_in_near_the_unit_is_kept_and_audited(
    client: TestClient, scene: Scene, session_factory: sessionmaker[Session]
) -> None:
    body = _check_in(scene, scene.north(120), accuracy_m=8,
                     client_at="2026-12-03T09:30:00+08:00")  # fmt: skip
    made = client.post("/api/check-ins", json=body, headers=scene.officer)
    assert made.status_code == 201, made.text
    kept = made.json()
    assert kept["distance_m"] == pytest.approx(120, abs=2)
    assert kept["client_at"].startswith("2026-12-03T01:30:00")
    assert _audit(session_factory, "check_in.create", "ok", kept["id"]) == 1
    listed = client.get(f"/api/layers/units/features/{scene.unit_id}/check-ins",
                        headers=scene.officer)  # fmt: skip
    assert listed.status_code == 200, listed.text
    assert listed.json()["data"][0]["id"] == kept["id"]


def test_a_check_in_far_from_the_unit_is_refused_and_audited(
    client: TestClient, scene: Scene, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        before = session.scalar(text("SELECT count(*) FROM check_ins WHERE feature_id = :f"),
                                {"f": scene.unit_id})  # fmt: skip
    far = client.post("/api/check-ins", json=_check_in(scene, scene.north(2_000)),
                      headers=scene.officer)  # fmt: skip
    assert far.status_code == 403, far.text
    refusal = far.json()
    assert refusal["code"] == "TooFarAway" and refusal["max_distance_m"] == RADIUS_M
    assert refusal["distance_m"] == pytest.approx(2_000, abs=20)
    assert _audit(session_factory, "check_in.create", "denied", scene.unit_id) >= 1
    with session_factory() as session:
        after = session.scalar(text("SELECT count(*) FROM check_ins WHERE feature_id = :f"),
                               {"f": scene.unit_id})  # fmt: skip
    assert after == before


def test_a_check_in_is_for_police_at_units_they_may_see(client: TestClient, scene: Scene) -> None:
    elsewhere = {**_check_in(scene, scene.north(0)), "feature_id": scene.other_id}
    assert client.post("/api/check-ins", json=elsewhere, headers=scene.officer).status_code == 404
    mine = _check_in(scene, scene.north(0))
    assert client.post("/api/check-ins", json=mine, headers=scene.planner).status_code == 403
    odd_positions: list[list[Any]] = [[200, 39.9], [116.4], [116.4, "x"]]
    for position in odd_positions:
        odd = client.post("/api/check-ins", json=_check_in(scene, position),
                          headers=scene.officer)  # fmt: skip
        assert odd.status_code == 422, odd.text


def test_a_check_in_resent_under_its_key_is_kept_once(
    client: TestClient, scene: Scene, session_factory: sessionmaker[Session]
) -> None:
    key = f"phone-{uuid.uuid4()}"
    body = _check_in(scene, scene.north(50), client_at="2026-12-03T10:00:00+08:00")
    headers = {**scene.officer, "Idempotency-Key": key}
    first = client.post("/api/check-ins", json=body, headers=headers)
    again = client.post("/api/check-ins", json=body, headers=headers)
    assert first.status_code == 201 and again.status_code == 200, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    with session_factory() as session:
        kept = session.scalar(text("SELECT count(*) FROM check_ins WHERE feature_id = :f"
                                   " AND client_at = '2026-12-03T02:00:00Z'"),
                              {"f": scene.unit_id})  # fmt: skip
    assert kept == 1
    other = client.post("/api/check-ins", json=_check_in(scene, scene.north(60)), headers=headers)
    assert other.status_code == 409, other.text
    badly_named = {**scene.officer, "Idempotency-Key": "short"}
    short = client.post("/api/check-ins", json=body, headers=badly_named)
    assert short.status_code == 422, short.text


def test_an_inspection_resent_under_its_key_is_kept_once(
    client: TestClient, scene: Scene, session_factory: sessionmaker[Session]
) -> None:
    answers = {"exits_clear": False, "extinguishers_ok": True, "alarm_ok": True,
               "wiring_ok": True}  # fmt: skip
    title = f"现场检查 {uuid.uuid4().hex[:8]}"
    body = {"template": "fire_safety", "title": title, "answers": answers,
            "features": [{"layer": "units", "id": scene.unit_id}]}  # fmt: skip
    headers = {**scene.officer, "Idempotency-Key": f"phone-{uuid.uuid4()}"}
    first = client.post("/api/inspections", json=body, headers=headers)
    assert first.status_code == 201, first.text
    again = client.post("/api/inspections", json=body, headers=headers)
    assert again.status_code == 200, again.text
    assert again.json()["id"] == first.json()["id"]
    assert [h["id"] for h in again.json()["opened_hazards"]] == first.json()["details"]["hazards"]
    with session_factory() as session:
        kept = session.scalar(
            text("SELECT count(*) FROM records WHERE kind = 'inspection' AND title = :t"),
            {"t": title},
        )
    assert kept == 1


def test_units_with_an_open_task_past_due_are_listed(client: TestClient, scene: Scene) -> None:
    task = {"title": "逾期检查", "topic": "internal_security",
            "due_at": "2026-01-05T09:00:00+08:00",
            "features": [{"layer": "units", "id": scene.unit_id}], "details": {}}  # fmt: skip
    made = client.post("/api/tasks", json=task, headers=scene.officer)
    assert made.status_code == 201, made.text
    overdue = client.get("/api/layers/units/overdue", headers=scene.officer)
    assert overdue.status_code == 200, overdue.text
    ids = overdue.json()["ids"]
    assert scene.unit_id in ids and scene.other_id not in ids and ids == sorted(ids)
