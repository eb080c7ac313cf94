"""Accounts split between two people: the admin creates them, the security admin authorises."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from layers.accounts.models import User
from layers.accounts.roles import Role
from layers.audit.models import AuditRecord
from tests.utils.users import bearer, make_user


def _create(client: TestClient, headers: dict[str, str], role: str = "planner") -> dict:
    name = f"new-{uuid.uuid4().hex[:8]}"
    response = client.post("/api/admin/users", json={"username": name, "role": role},
                           headers=headers)  # fmt: skip
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    return dict(response.json())


def test_an_admins_account_waits_for_the_security_admin(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    admin = bearer(client, make_user(session_factory, Role.ADMIN))
    security = bearer(client, make_user(session_factory, Role.SECURITY_ADMIN))
    made = _create(client, admin, role="auditor")
    assert made["is_active"] is False and made["role"] == "auditor"
    login = {"username": made["username"], "password": made["one_time_password"]}
    assert client.post("/api/auth/login", json=login).status_code == 401  # disabled
    path = f"/api/admin/users/{made['id']}/authority"
    assert client.patch(path, json={"is_active": True}, headers=admin).status_code == 403
    enabled = client.patch(path, json={"is_active": True, "role": "planner"}, headers=security)
    assert enabled.status_code == 200, enabled.text
    assert enabled.json()["is_active"] is True and enabled.json()["role"] == "planner"
    assert client.post("/api/auth/login", json=login).status_code == 200
    client.cookies.clear()
    with session_factory() as session:
        audited = session.scalars(
            select(AuditRecord).where(AuditRecord.action == "user.authority",
                                      AuditRecord.target_id == str(made["id"]))
        ).one()  # fmt: skip
    assert audited.before is not None and audited.before["active"] is False
    assert audited.after is not None and audited.after["role"] == "planner"


def test_the_security_admin_cannot_create_accounts_nor_change_his_own(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    name = make_user(session_factory, Role.SECURITY_ADMIN)
    security = bearer(client, name)
    refused = client.post("/api/admin/users", json={"username": "x-y", "role": "auditor"},
                          headers=security)  # fmt: skip
    assert refused.status_code == 403
    with session_factory() as session:
        own = session.scalars(select(User.id).where(User.username == name)).one()
    mine = client.patch(f"/api/admin/users/{own}/authority", json={"role": "auditor"},
                        headers=security)  # fmt: skip
    assert mine.status_code == 403
    with session_factory() as session:
        assert session.get_one(User, own).role == "security_admin"


def test_a_role_that_needs_a_jurisdiction_is_refused_without_one(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    admin = bearer(client, make_user(session_factory, Role.ADMIN))
    security = bearer(client, make_user(session_factory, Role.SECURITY_ADMIN))
    made = _create(client, admin)
    path = f"/api/admin/users/{made['id']}/authority"
    officer = client.patch(path, json={"role": "officer"}, headers=security)
    assert officer.status_code == 422 and "precinct or district" in officer.json()["detail"]
    missing = client.patch("/api/admin/users/987654321/authority", json={"is_active": True},
                           headers=security)  # fmt: skip
    assert missing.status_code == 404
