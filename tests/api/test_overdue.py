"""Overdue records are announced once each, as events, by ``warroom overdue``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from api.cli.main import app
from layers.accounts.models import User
from layers.accounts.roles import Role
from layers.accounts.service import Jurisdiction
from layers.audit.models import Event
from layers.features.models import Unit
from tests.utils.users import bearer, make_user


def _overdue_events(factory: sessionmaker[Session], record_id: int) -> int:
    with factory() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(Event)
                .where(
                    Event.type == "record.overdue",
                    Event.payload["record_id"].as_integer() == record_id,
                )
            )
            or 0
        )


@pytest.fixture
def cli_database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point ``warroom overdue`` at the test database."""
    monkeypatch.setenv("WARROOM_DATABASE_URL", database_url)


def _overdue_in_inbox(client: TestClient, headers: dict[str, str]) -> list[int]:
    told = client.get("/api/inbox", params={"limit": 200}, headers=headers).json()["data"]
    return [m["record"]["id"] for m in told if m["reason"] == "overdue"]


@pytest.mark.usefixtures("cli_database")
def test_each_overdue_task_raises_one_event(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    commander = bearer(client, make_user(session_factory, Role.COMMANDER))
    with session_factory() as session:
        unit = session.scalar(select(Unit.id).limit(1))
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    made = {}
    for name, due in (("late", past), ("on_time", future), ("late_but_cancelled", past)):
        body = {
            "title": name,
            "topic": "internal_security",
            "due_at": due,
            "features": [{"layer": "units", "id": unit}],
            "details": {},
        }
        made[name] = client.post("/api/tasks", json=body, headers=commander).json()
    cancelled = made["late_but_cancelled"]
    response = client.post(
        f"/api/tasks/{cancelled['id']}/transitions",
        json={"action": "cancel"},
        headers={**commander, "If-Match": '"1"'},
    )
    assert response.status_code == 200
    first = CliRunner().invoke(app, ["overdue"])
    assert first.exit_code == 0, first.output
    assert "records newly overdue" in first.output
    second = CliRunner().invoke(app, ["overdue"])
    assert second.output.strip() == "0 records newly overdue"
    assert _overdue_events(session_factory, made["late"]["id"]) == 1
    assert _overdue_events(session_factory, made["on_time"]["id"]) == 0
    assert _overdue_events(session_factory, cancelled["id"]) == 0
    assert _overdue_in_inbox(client, commander) == [made["late"]["id"]]  # once, to its creator


@pytest.mark.usefixtures("cli_database")
def test_an_overdue_task_is_in_each_assignees_inbox(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    commander = bearer(client, make_user(session_factory, Role.COMMANDER))
    assignee_name = make_user(session_factory, Role.COMMANDER)
    assignee = bearer(client, assignee_name)
    with session_factory() as session:
        unit = session.scalar(select(Unit.id).limit(1))
        assignee_id = session.scalar(select(User.id).where(User.username == assignee_name))
    body = {
        "title": "late and assigned",
        "topic": "internal_security",
        "due_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
        "features": [{"layer": "units", "id": unit}],
        "details": {"assignees": [{"type": "user", "id": assignee_id}]},
    }
    task = client.post("/api/tasks", json=body, headers=commander)
    assert task.status_code == 201, task.text
    assert CliRunner().invoke(app, ["overdue"]).exit_code == 0
    for who in (commander, assignee):
        assert _overdue_in_inbox(client, who) == [task.json()["id"]]


@pytest.mark.usefixtures("cli_database")
def test_a_hazard_past_its_deadline_is_in_its_units_inbox(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    commander = bearer(client, make_user(session_factory, Role.COMMANDER))
    with session_factory() as session:
        unit = session.scalar(select(Unit.id).order_by(Unit.id.desc()).limit(1))
    assert unit is not None
    fixer = bearer(client, make_user(session_factory, Role.UNIT, Jurisdiction(unit_id=unit)))
    body = {
        "title": "消防通道堵塞",
        "topic": "internal_security",
        "due_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
        "features": [{"layer": "units", "id": unit}],
        "details": {"level": 2, "category": "fire", "assignees": [{"type": "unit", "id": unit}]},
    }
    hazard = client.post("/api/hazards", json=body, headers=commander)
    assert hazard.status_code == 201, hazard.text
    assert CliRunner().invoke(app, ["overdue"]).exit_code == 0
    assert _overdue_in_inbox(client, fixer).count(hazard.json()["id"]) == 1
    assert _overdue_events(session_factory, hazard.json()["id"]) == 1
