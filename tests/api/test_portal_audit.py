"""Every write the portal serves is audited: a unit user takes each one in turn, over HTTP
through the portal app, and each leaves an audit record under the user's name."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from layers.accounts.roles import Role
from layers.accounts.service import Jurisdiction
from layers.audit.models import AuditRecord
from layers.features.models import Unit
from layers.settings import Settings
from tests.api.test_training import RIGHT
from tests.utils.images import png_bytes
from tests.utils.places import precincts_with_units
from tests.utils.portal import invite, planned_course, self_check_form
from tests.utils.users import PASSWORD, bearer, make_user, totp_code
from warroom_ui.portal import ALLOWED, create_portal_app

WRITES = {"POST", "PATCH", "DELETE"}
# Writes the portal serves whose trace is kept elsewhere than the audit log: a notice's read
# receipt is the message's read_at/read_by (layers/records/messages.py), shown to the sender.
NOT_AUDITED = {("POST", "/api/inbox/{message_id}/read")}
NEW_PASSWORD = "Another-horse-battery-8"


@pytest.fixture(scope="module")
def portal(settings: Settings, city: None) -> Iterator[TestClient]:
    """The portal app on the run's database."""
    with TestClient(create_portal_app(settings)) as client:
        yield client


class Invited:
    """A unit of its own precinct, invited; its self-check form, notice and planned course."""

    def __init__(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        with factory() as session:
            precinct = precincts_with_units(session)[5]
            self.id = session.scalars(select(Unit.id).where(Unit.precinct_id == precinct.id)
                                      .order_by(Unit.id).limit(1)).one()  # fmt: skip
        officer = bearer(client, make_user(factory, Role.OFFICER,
                                           Jurisdiction(precinct_code=precinct.code)))  # fmt: skip
        commander = bearer(client, make_user(factory, Role.COMMANDER))
        self.form = self_check_form()
        assert client.post("/api/forms", json=self.form, headers=commander).status_code == 201
        self.course = planned_course(client, commander, self.id)
        self.code = invite(client, officer, self.id)["code"]
        sent = {"title": "审计测试通知", "body": "请阅读。", "units": [self.id]}
        assert client.post("/api/notices", json=sent, headers=officer).status_code == 201


class Walk:
    """The unit user's session on the portal and what the steps so far have made."""

    def __init__(self, portal: TestClient, unit: Invited) -> None:
        self.portal, self.unit = portal, unit
        self.username = f"unit{unit.id}audit"
        self.headers: dict[str, str] = {}
        self.made: dict[str, Any] = {}

    def call(self, method: str, path: str, **kwargs: Any) -> Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.portal.request(method, path, headers=headers, **kwargs)

    def versioned(self, method: str, path: str, record: dict[str, Any], **kwargs: Any) -> Response:
        return self.call(method, path, headers={"If-Match": f'"{record["version"]}"'}, **kwargs)


def _join(w: Walk) -> Response:
    body = {"code": w.unit.code, "username": w.username, "password": PASSWORD}
    return w.call("POST", "/api/portal/join", json=body)


def _login(w: Walk) -> Response:
    answer = w.call("POST", "/api/auth/login", json={"username": w.username, "password": PASSWORD})
    w.portal.cookies.clear()
    w.headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}
    return answer


def _edit(w: Walk) -> Response:
    unit = w.call("GET", "/api/portal/unit").json()
    answer = w.versioned("PATCH", "/api/portal/unit", unit, json={"address": "审计路1号"})
    w.made["approval"] = answer.json()
    return answer


def _withdraw_edit(w: Walk) -> Response:
    approval = w.made["approval"]
    return w.versioned("POST", f"/api/approvals/{approval['id']}/transitions", approval,
                       json={"action": "withdraw"})  # fmt: skip


def _self_check(w: Walk) -> Response:
    answer = w.call("POST", "/api/self-checks", json={
        "template": w.unit.form["code"], "features": [{"layer": "units", "id": w.unit.id}],
        "answers": {"exits_clear": False, "extinguishers_ok": True}})  # fmt: skip
    w.made["hazard"] = answer.json()["opened_hazards"][0]
    return answer


def _rectify(w: Walk) -> Response:
    hazard = w.made["hazard"]
    return w.versioned("POST", f"/api/hazards/{hazard['id']}/transitions", hazard,
                       json={"action": "rectify"})  # fmt: skip


def _attach(w: Walk) -> Response:
    photo = {"file": ("after.png", png_bytes(8, 6), "image/png")}
    answer = w.call("POST", f"/api/records/{w.made['hazard']['id']}/attachments", files=photo)
    w.made["hazard"], w.made["attachment"] = answer.json(), answer.headers.get("Location")
    return answer


def _detach(w: Walk) -> Response:
    return w.versioned("DELETE", w.made["attachment"], w.made["hazard"])


def _comment(w: Walk) -> Response:
    return w.call("POST", f"/api/records/{w.made['hazard']['id']}/comments",
                  json={"body": "已安排整改"})  # fmt: skip


def _activity(w: Walk) -> Response:
    start = datetime.now(UTC) + timedelta(days=3)
    answer = w.call("POST", "/api/activities", json={
        "title": "审计测试活动", "topic": "internal_security",
        "features": [{"layer": "units", "id": w.unit.id}],
        "starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=2)).isoformat(),
        "details": {"organiser": "本单位", "expected_size": 300}})  # fmt: skip
    w.made["activity"] = answer.json()
    return answer


def _cancel_activity(w: Walk) -> Response:
    activity = w.made["activity"]
    return w.versioned("POST", f"/api/activities/{activity['id']}/transitions", activity,
                       json={"action": "cancel"})  # fmt: skip


def _staff(w: Walk) -> Response:
    answer = w.call("POST", "/api/staff-registrations", json={
        "title": "人员报备", "topic": "internal_security",
        "features": [{"layer": "units", "id": w.unit.id}],
        "details": {"person_name": "李四", "id_number": "110101199001011234",
                    "phone": "13900139000", "staff_role": "guard"}})  # fmt: skip
    w.made["staff"] = answer.json()
    return answer


def _withdraw_staff(w: Walk) -> Response:
    staff = w.made["staff"]
    return w.versioned("POST", f"/api/staff-registrations/{staff['id']}/transitions", staff,
                       json={"action": "withdraw"})  # fmt: skip


def _read_notice(w: Walk) -> Response:
    inbox = w.call("GET", "/api/inbox").json()["data"]
    message = next(m for m in inbox if m["record"]["title"] == "审计测试通知")
    return w.call("POST", f"/api/inbox/{message['id']}/read")


def _viewed(w: Walk) -> Response:
    course = w.call("GET", f"/api/training/learning/courses/{w.unit.course}").json()["course"]
    for resource in course["resources"]:
        answer = w.call("POST", f"/api/training/learning/courses/{w.unit.course}/viewed",
                        json={"resource_id": resource["id"]})  # fmt: skip
    w.made["quiz_version"] = course["quiz_version"]
    return answer


def _attempt(w: Walk) -> Response:
    return w.call("POST", f"/api/training/learning/courses/{w.unit.course}/attempts",
                  json={"quiz_version": w.made["quiz_version"], "answers": RIGHT})  # fmt: skip


def _enrol(w: Walk) -> Response:
    answer = w.call("POST", "/api/auth/totp/enroll")
    w.made["secret"] = answer.json()["secret"]
    return answer


def _confirm(w: Walk) -> Response:
    return w.call("POST", "/api/auth/totp/confirm", json={"code": totp_code(w.made["secret"])})


def _password(w: Walk) -> Response:
    return w.call("POST", "/api/auth/password",
                  json={"old_password": PASSWORD, "new_password": NEW_PASSWORD})  # fmt: skip


def _logout(w: Walk) -> Response:
    return w.call("POST", "/api/auth/logout")


# Each write of the portal's allow-list, in an order that makes what the next one needs.
STEPS: list[tuple[str, str, Callable[[Walk], Response]]] = [
    ("POST", "/api/portal/join", _join),
    ("POST", "/api/auth/login", _login),
    ("PATCH", "/api/portal/unit", _edit),
    ("POST", "/api/approvals/{record_id}/transitions", _withdraw_edit),
    ("POST", "/api/self-checks", _self_check),
    ("POST", "/api/hazards/{record_id}/transitions", _rectify),
    ("POST", "/api/records/{record_id}/attachments", _attach),
    ("DELETE", "/api/attachments/{attachment_id}", _detach),
    ("POST", "/api/records/{record_id}/comments", _comment),
    ("POST", "/api/activities", _activity),
    ("POST", "/api/activities/{record_id}/transitions", _cancel_activity),
    ("POST", "/api/staff-registrations", _staff),
    ("POST", "/api/staff-registrations/{record_id}/transitions", _withdraw_staff),
    ("POST", "/api/inbox/{message_id}/read", _read_notice),
    ("POST", "/api/training/learning/courses/{course_id}/viewed", _viewed),
    ("POST", "/api/training/learning/courses/{course_id}/attempts", _attempt),
    ("POST", "/api/auth/totp/enroll", _enrol),
    ("POST", "/api/auth/totp/confirm", _confirm),
    ("POST", "/api/auth/password", _password),
    ("POST", "/api/auth/logout", _logout),
]


def _last_audit(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return int(session.scalar(select(func.max(AuditRecord.id))) or 0)


def test_every_write_the_portal_serves_is_audited_under_the_unit_users_name(
    client: TestClient, portal: TestClient, session_factory: sessionmaker[Session]
) -> None:
    served = {(m, path) for path, methods in ALLOWED.items() for m in methods if m in WRITES}
    assert {(m, path) for m, path, _ in STEPS} == served, "a write of the portal is not walked"
    walk = Walk(portal, Invited(client, session_factory))
    unaudited = []
    for method, path, take in STEPS:
        since = _last_audit(session_factory)
        answer = take(walk)
        assert answer.status_code < 300, f"{method} {path}: {answer.status_code} {answer.text}"
        with session_factory() as session:
            actions = session.scalars(select(AuditRecord.action).where(
                AuditRecord.id > since, AuditRecord.actor_name == walk.username,
                AuditRecord.result == "ok")).all()  # fmt: skip
        if not actions:
            unaudited.append((method, path))
    assert set(unaudited) == NOT_AUDITED, unaudited
