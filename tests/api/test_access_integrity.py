"""Users' roles, jurisdictions and states sealed with HMAC-SM3: a change by SQL is refused.

Tampering is done as the database owner with plain SQL, as an intruder with database
access would; the application notices at the next request and names the user in
``warroom access verify``.
"""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool
from typer.testing import CliRunner

from api.cli.main import app
from layers.accounts.models import User
from layers.accounts.roles import Role
from layers.audit.models import AuditRecord
from tests.utils.users import PASSWORD, bearer, log_in, make_user

runner = CliRunner()


def _as_owner(owner_database_url: str, statement: str, **values: object) -> None:
    engine = create_engine(owner_database_url, poolclass=NullPool)
    with engine.begin() as connection:
        connection.execute(text(statement), values)
    engine.dispose()


def _access(database_url: str, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["access", *args], env={"WARROOM_DATABASE_URL": database_url})
    return result.exit_code, " ".join(result.output.split())


def _audited(session_factory: sessionmaker[Session], name: str) -> list[tuple[str, str]]:
    with session_factory() as session:
        rows = session.execute(
            select(AuditRecord.action, AuditRecord.result)
            .where(AuditRecord.actor_name == name).order_by(AuditRecord.id)
        )  # fmt: skip
        return [(action, result) for action, result in rows]


def _id_of(session_factory: sessionmaker[Session], name: str) -> int:
    with session_factory() as session:
        return session.scalars(select(User.id).where(User.username == name)).one()


def test_a_role_changed_by_sql_is_refused_audited_and_named_by_verify(
    client: TestClient, session_factory: sessionmaker[Session], owner_database_url: str,
    database_url: str,
) -> None:  # fmt: skip
    name = make_user(session_factory, Role.TOURISM)
    untouched = make_user(session_factory, Role.TOURISM)
    headers = bearer(client, name)
    assert client.get("/api/auth/me", headers=headers).status_code == 200
    _as_owner(owner_database_url, "UPDATE users SET role = 'admin' WHERE username = :name",
              name=name)  # fmt: skip
    refused = client.get("/api/auth/me", headers=headers)
    assert refused.status_code == 401, refused.text
    assert "integrity" in refused.json()["detail"]
    assert _audited(session_factory, name)[-1] == ("access.tampered", "denied")
    login = client.post("/api/auth/login", json={"username": name, "password": PASSWORD})
    assert login.status_code == 401
    code, output = _access(database_url, "verify")
    assert code == 1
    assert f"{name}: seal fails (role admin" in output
    assert untouched not in output


def test_a_role_changed_through_the_api_keeps_working(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    name = make_user(session_factory, Role.PLANNER)
    headers = bearer(client, name)
    security = bearer(client, make_user(session_factory, Role.SECURITY_ADMIN))
    path = f"/api/admin/users/{_id_of(session_factory, name)}/authority"
    changed = client.patch(path, json={"role": "tourism"}, headers=security)
    assert changed.status_code == 200, changed.text
    me = client.get("/api/auth/me", headers=bearer(client, name))
    assert me.status_code == 200 and me.json()["role"] == "tourism"
    assert client.get("/api/auth/me", headers=headers).status_code in (200, 401)  # old session
    assert ("access.tampered", "denied") not in _audited(session_factory, name)


def test_a_seal_moved_from_another_user_fails(
    client: TestClient, session_factory: sessionmaker[Session], owner_database_url: str
) -> None:
    # Same role, same (empty) jurisdiction, same state: only the id and name differ.
    name, other = make_user(session_factory, Role.PLANNER), make_user(session_factory, Role.PLANNER)
    headers = bearer(client, name)
    _as_owner(
        owner_database_url,
        "UPDATE users SET authority_mac = (SELECT authority_mac FROM users WHERE username = :other)"
        " WHERE username = :name", name=name, other=other,
    )  # fmt: skip
    assert client.get("/api/auth/me", headers=headers).status_code == 401
    assert client.get("/api/auth/me", headers=bearer(client, other)).status_code == 200


def test_a_tampered_user_is_not_blessed_by_a_later_change_until_resealed(
    client: TestClient, session_factory: sessionmaker[Session], owner_database_url: str,
    database_url: str,
) -> None:  # fmt: skip
    name = make_user(session_factory, Role.PLANNER)
    security = bearer(client, make_user(session_factory, Role.SECURITY_ADMIN))
    _as_owner(owner_database_url, "UPDATE users SET role = 'commander' WHERE username = :name",
              name=name)  # fmt: skip
    path = f"/api/admin/users/{_id_of(session_factory, name)}/authority"
    refused = client.patch(path, json={"is_active": False}, headers=security)
    assert refused.status_code == 409, refused.text
    assert f"warroom access seal --user {name}" in refused.json()["detail"]
    _as_owner(owner_database_url, "UPDATE users SET role = 'planner' WHERE username = :name",
              name=name)  # fmt: skip
    code, output = _access(database_url, "seal", "--user", name)
    assert code == 0 and f"sealed 1 users: {name}" in output
    assert client.get("/api/auth/me", headers=bearer(client, name)).status_code == 200


def test_users_from_before_the_seal_are_refused_until_sealed(
    client: TestClient, session_factory: sessionmaker[Session], owner_database_url: str,
    database_url: str,
) -> None:  # fmt: skip
    name = make_user(session_factory, Role.PLANNER)
    _as_owner(owner_database_url, "UPDATE users SET authority_mac = NULL WHERE username = :name",
              name=name)  # fmt: skip
    response = client.post("/api/auth/login", json={"username": name, "password": PASSWORD})
    assert response.status_code == 401
    code, output = _access(database_url, "verify")
    assert code == 1 and f"{name}: not sealed" in output
    code, output = _access(database_url, "seal")
    assert code == 0 and name in output
    token = log_in(client, name)
    assert client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"}).is_success
