"""The password policy and the sessions it governs, over HTTP (#14: 1 Authentication).

A new password is checked on the server (length, classes, username, the last five);
an initial, reset or expired password lets its session do nothing but change it; a
changed password ends the user's other sessions; sessions end when idle or old.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from layers.accounts.models import AuthSession, User
from layers.accounts.roles import Role
from layers.accounts.service import hash_token
from layers.audit.models import AuditRecord
from tests.utils.users import PASSWORD, bearer, log_in, make_user

CENTRE_TILE = "/tiles/units/12/3372/1552.mvt"


def change(client: TestClient, headers: dict[str, str], old: str, new: str) -> tuple[int, dict]:
    response = client.post(
        "/api/auth/password", json={"old_password": old, "new_password": new}, headers=headers
    )
    return response.status_code, response.json() if response.content else {}


def user_id(factory: sessionmaker[Session], name: str) -> int:
    with factory() as session:
        found = session.scalar(select(User.id).where(User.username == name))
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("new", "rule", "message"),
    [
        ("Ab1-short", "length", "at least 10 characters"),
        ("only-lower-case-and-dashes", "character_classes", "at least 3 of"),
        ("ABCDEFGHIJ123456", "character_classes", "it has 2"),
        ("{name}-Xy9", "username", "must not contain the username"),
    ],
)
def test_a_weak_new_password_is_422_naming_the_rule(
    client: TestClient, session_factory: sessionmaker[Session], new: str, rule: str, message: str
) -> None:
    name = make_user(session_factory, Role.PLANNER)
    headers = bearer(client, name)
    status, body = change(client, headers, PASSWORD, new.format(name=name.upper()))
    assert status == 422
    assert body["code"] == "WeakPassword" and body["rule"] == rule
    assert message in body["detail"]
    assert bearer(client, name)  # the password is unchanged


def test_none_of_the_last_five_passwords_comes_back(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    name = make_user(session_factory, Role.PLANNER)
    headers = bearer(client, name)
    passwords = [PASSWORD] + [f"Rotated-pass-{n}" for n in range(1, 6)]
    for old, new in itertools.pairwise(passwords[:5]):
        assert change(client, headers, old, new)[0] == 204
    for reused in passwords[:5]:  # the current one and the four before it
        status, body = change(client, headers, passwords[4], reused)
        assert (status, body["rule"]) == (422, "history"), reused
        assert "last 5 passwords" in body["detail"]
    assert change(client, headers, passwords[4], passwords[5])[0] == 204
    assert change(client, headers, passwords[5], PASSWORD)[0] == 204  # the sixth back is free


def test_a_changed_password_ends_the_other_sessions_only(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    name = make_user(session_factory, Role.COMMANDER)
    here, elsewhere = bearer(client, name), bearer(client, name)
    status, body = change(client, here, "Not-the-password-1", "Brand-new-pass-2")
    assert (status, body["code"]) == (403, "PermissionDenied")
    assert body["detail"] == "the current password is wrong"
    assert change(client, here, PASSWORD, "Brand-new-pass-2")[0] == 204
    assert client.get("/api/auth/me", headers=elsewhere).status_code == 401
    assert client.get("/api/layers", headers=here).status_code == 200
    refused = client.post("/api/auth/login", json={"username": name, "password": PASSWORD})
    assert refused.status_code == 401
    assert log_in(client, name, "Brand-new-pass-2")
    with session_factory() as session:
        results = session.scalars(
            select(AuditRecord.result)
            .where(AuditRecord.action == "auth.password_change")
            .where(AuditRecord.target_id == str(user_id(session_factory, name)))
            .order_by(AuditRecord.id)
        ).all()
    assert results == ["denied", "ok"]


def test_wrong_current_passwords_count_toward_the_lockout(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    name = make_user(session_factory, Role.COMMANDER)
    thief = TestClient(client.app, client=("198.51.100.31", 50000))  # holds a stolen session
    headers = bearer(thief, name)
    for attempt in range(5):
        assert change(thief, headers, f"Guess-number-{attempt}", "Brand-new-pass-3")[0] == 403
    status, body = change(thief, headers, PASSWORD, "Brand-new-pass-3")
    assert status == 403 and "too many wrong passwords" in body["detail"]
    login = thief.post("/api/auth/login", json={"username": name, "password": PASSWORD})
    assert login.status_code == 401  # the account is locked from that address
    assert bearer(client, name)  # not from elsewhere


def test_an_initial_password_lets_the_session_only_change_it(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    name = make_user(session_factory, Role.COMMANDER, initial_password=True)
    login = client.post("/api/auth/login", json={"username": name, "password": PASSWORD})
    client.cookies.clear()
    assert login.status_code == 200 and login.json()["required"] == "change_password"
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    for method, path, body in (
        ("GET", "/api/layers", None),
        ("GET", "/api/layers/units/features?limit=1", None),
        ("POST", "/api/spatial/query", {"layers": ["units"], "bbox": [116.3, 39.9, 116.4, 40]}),
        ("GET", CENTRE_TILE, None),
    ):
        refused = client.request(method, path, json=body, headers=headers)
        assert refused.status_code == 403, path
        assert refused.json()["code"] == "PasswordChangeRequired", path
        assert "POST /api/auth/password" in refused.json()["detail"]
    me = client.get("/api/auth/me", headers=headers)
    assert me.status_code == 200 and me.json()["required"] == "change_password"
    assert client.get("/api/auth/session", headers=headers).json() == {"authenticated": True}
    assert change(client, headers, PASSWORD, PASSWORD)[1]["rule"] == "history"
    assert change(client, headers, PASSWORD, "Own-chosen-pass-4")[0] == 204
    assert client.get("/api/layers", headers=headers).status_code == 200
    assert client.get("/api/auth/me", headers=headers).json()["required"] is None
    assert client.post("/api/auth/logout", headers=headers).status_code == 204


def test_a_reset_gives_a_one_time_password_and_ends_every_session(
    client: TestClient, session_factory: sessionmaker[Session], admin: dict[str, str]
) -> None:
    name = make_user(session_factory, Role.PLANNER)
    target = user_id(session_factory, name)
    old_session = bearer(client, name)
    planner = bearer(client, make_user(session_factory, Role.PLANNER))
    path = f"/api/admin/users/{target}/password-reset"
    assert client.post(path, headers=planner).status_code == 403
    unknown = client.post("/api/admin/users/999999999/password-reset", headers=admin)
    assert unknown.status_code == 404
    reset = client.post(path, headers=admin)
    assert reset.status_code == 200 and reset.headers["cache-control"] == "no-store"
    one_time = reset.json()["one_time_password"]
    assert client.get("/api/auth/me", headers=old_session).status_code == 401
    login = client.post("/api/auth/login", json={"username": name, "password": one_time})
    client.cookies.clear()
    assert login.json()["required"] == "change_password"
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    assert client.get("/api/layers", headers=headers).status_code == 403
    assert change(client, headers, one_time, "After-reset-pass-5")[0] == 204
    assert client.get("/api/layers", headers=headers).status_code == 200


def test_an_expired_password_logs_in_only_to_change_it(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    name = make_user(session_factory, Role.TOURISM)
    with session_factory() as session, session.begin():
        session.execute(
            update(User)
            .where(User.username == name)
            .values(password_changed_at=datetime.now(UTC) - timedelta(days=91))
        )
    login = client.post("/api/auth/login", json={"username": name, "password": PASSWORD})
    client.cookies.clear()
    assert login.json()["required"] == "change_password"
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    assert client.get("/api/layers", headers=headers).json()["code"] == "PasswordChangeRequired"
    assert change(client, headers, PASSWORD, "Fresh-ninety-days-6")[0] == 204
    assert client.get("/api/layers", headers=headers).status_code == 200


def test_a_session_ends_after_its_absolute_lifetime_even_when_busy(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    name = make_user(session_factory, Role.COMMANDER)
    headers = bearer(client, name)
    token = headers["Authorization"].removeprefix("Bearer ")
    began = datetime.now(UTC) - timedelta(hours=12, minutes=1)  # WARROOM_SECURITY_SESSION_MAX_HOURS
    with session_factory() as session, session.begin():
        session.execute(
            update(AuthSession)
            .where(AuthSession.token_hash == hash_token(token))
            .values(created_at=began, expires_at=began + timedelta(hours=12))
        )  # last_seen_at stays now: the session is in use, not idle
    response = client.get("/api/auth/me", headers=headers)
    assert response.status_code == 401 and "expired" in response.json()["detail"]


def test_the_idle_timeout_is_thirty_minutes_by_default(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    headers = bearer(client, make_user(session_factory, Role.COMMANDER))
    token = headers["Authorization"].removeprefix("Bearer ")
    for minutes, status in ((29, 200), (31, 401)):
        with session_factory() as session, session.begin():
            session.execute(
                update(AuthSession)
                .where(AuthSession.token_hash == hash_token(token))
                .values(last_seen_at=datetime.now(UTC) - timedelta(minutes=minutes))
            )
        assert client.get("/api/auth/me", headers=headers).status_code == status, minutes


def test_a_token_in_the_query_string_is_not_accepted(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    token = log_in(client, make_user(session_factory, Role.PLANNER))
    for parameter in ("access_token", "token", "warroom_session"):
        response = client.get(f"/api/layers?{parameter}={token}")
        assert response.status_code == 401, parameter
    assert client.get(f"{CENTRE_TILE}?access_token={token}").status_code == 401
