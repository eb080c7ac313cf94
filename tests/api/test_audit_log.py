"""The auditor's routes: search the audit log, export it as CSV with its SM3, verify the chain."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.audit_csv import HEADER
from layers.accounts.roles import Role
from layers.audit.models import AuditRecord
from tests.utils.users import bearer, make_user


@pytest.fixture(scope="module")
def auditor(client: TestClient, session_factory: sessionmaker[Session]) -> dict[str, str]:
    """The Authorization header of a fresh auditor."""
    return bearer(client, make_user(session_factory, Role.AUDITOR))


def _actions_of(session_factory: sessionmaker[Session], name: str) -> list[tuple[str, str]]:
    with session_factory() as session:
        rows = session.execute(
            select(AuditRecord.action, AuditRecord.result)
            .where(AuditRecord.actor_name == name).order_by(AuditRecord.id)
        )  # fmt: skip
        return [(action, result) for action, result in rows]


def test_the_auditor_finds_a_users_logins_by_user_action_result_source_and_time(
    client: TestClient, auditor: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    name = make_user(session_factory, Role.PLANNER)
    started = datetime.now(UTC) - timedelta(seconds=1)
    bearer(client, name)
    refused = client.post("/api/auth/login", json={"username": name, "password": "Wrong-pass-123"})
    assert refused.status_code == 401
    query = {"user": name, "action": "auth.*", "since": started.isoformat()}
    found = client.get("/api/audit", params=query, headers=auditor)
    assert found.status_code == 200, found.text
    records = found.json()["data"]
    assert [r["result"] for r in records] == ["denied", "ok"]  # newest first
    assert {r["actor_role"] for r in records} == {"planner"}
    assert {r["source"] for r in records} == {"testclient"}
    denied = client.get("/api/audit", params={**query, "result": "denied", "source": "testclient"},
                        headers=auditor).json()["data"]  # fmt: skip
    assert [r["id"] for r in denied] == [records[0]["id"]]
    later = {**query, "since": (datetime.now(UTC) + timedelta(hours=1)).isoformat()}
    assert client.get("/api/audit", params=later, headers=auditor).json()["data"] == []


def test_pages_follow_each_other_without_overlap(
    client: TestClient, auditor: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    name = make_user(session_factory, Role.TOURISM)
    for _ in range(5):
        bearer(client, name)
    seen: list[int] = []
    params: dict[str, str | int] = {"user": name, "limit": 2}
    while True:
        page = client.get("/api/audit", params=params, headers=auditor).json()
        seen += [r["id"] for r in page["data"]]
        if page["next"] is None:
            break
        params["cursor"] = page["next"]
    assert len(seen) == 5 and seen == sorted(seen, reverse=True)


def test_reading_the_audit_log_is_itself_audited(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    name = make_user(session_factory, Role.AUDITOR)
    headers = bearer(client, name)
    assert client.get("/api/audit", params={"action": "x"}, headers=headers).status_code == 200
    exported = client.get("/api/audit/export", params={"action": "x"}, headers=headers)
    assert exported.status_code == 200
    assert client.get("/api/audit/verify", headers=headers).status_code == 200
    actions = [action for action, _ in _actions_of(session_factory, name)]
    assert actions[-3:] == ["audit.search", "audit.export", "audit.verify"]


@pytest.mark.parametrize("role", [Role.ADMIN, Role.SECURITY_ADMIN, Role.COMMANDER, Role.PLANNER])
def test_no_other_role_reads_the_audit_log_and_trying_is_audited(
    client: TestClient, session_factory: sessionmaker[Session], role: Role
) -> None:
    name = make_user(session_factory, role)
    headers = bearer(client, name)
    for path in ("/api/audit", "/api/audit/export", "/api/audit/verify"):
        assert client.get(path, headers=headers).status_code == 403, path
    assert _actions_of(session_factory, name)[-3:] == [("access.denied", "denied")] * 3


def test_the_export_opens_in_excel_and_carries_its_sm3(
    client: TestClient, auditor: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    name = make_user(session_factory, Role.COMMANDER)
    bearer(client, name)
    client.post("/api/auth/login", json={"username": name, "password": "Wrong-pass-123"})
    response = client.get("/api/audit/export", params={"user": name}, headers=auditor)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    body = response.content
    assert response.headers["x-content-sm3"] == hashlib.new("sm3", body).hexdigest()
    assert body.startswith("\ufeff".encode())  # Excel reads it as UTF-8
    rows = list(csv.reader(io.StringIO(body.decode().removeprefix("\ufeff"))))
    assert tuple(rows[0]) == HEADER
    assert [(r[2], r[7], r[10]) for r in rows[1:]] == [
        (name, "auth.login", "ok"), (name, "auth.login", "denied"),
    ]  # fmt: skip
    assert response.headers["x-export-count"] == "2"
    with session_factory() as session:
        exported = session.scalars(
            select(AuditRecord).where(AuditRecord.action == "audit.export")
            .order_by(AuditRecord.id.desc()).limit(1)
        ).one()  # fmt: skip
    assert exported.after == {"rows": 2, "sm3": response.headers["x-content-sm3"]}


def test_the_chain_of_the_shared_database_verifies(
    client: TestClient, auditor: dict[str, str]
) -> None:
    status = client.get("/api/audit/verify", headers=auditor).json()
    assert status["intact"] is True and status["first_bad_id"] is None
    assert status["checked"] > 0 and status["head_id"] is not None


def test_bad_searches_are_precise_422s(client: TestClient, auditor: dict[str, str]) -> None:
    backwards = {"since": "2026-12-02T00:00:00Z", "until": "2026-12-01T00:00:00Z"}
    for params in (backwards, {"cursor": "nonsense"}, {"since": "yesterday"}, {"limit": 0}):
        response = client.get("/api/audit", params=params, headers=auditor)
        assert response.status_code == 422, (params, response.text)
