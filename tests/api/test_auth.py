"""Login, sessions and their expiry, over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from layers.accounts.models import AuthSession, User
from layers.accounts.roles import Role
from layers.accounts.service import REFUSED
from layers.audit.models import AuditRecord
from layers.settings import DatabaseSettings, Settings
from tests.utils.users import PASSWORD, bearer, make_user


def test_health_answers_without_login(client: TestClient) -> None:
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"
    assert response.json()["postgis"].startswith("3.")


def test_routes_need_a_session(client: TestClient) -> None:
    for path in ("/api/layers", "/api/auth/me", "/api/layers/units/features/1"):
        response = client.get(path)
        assert response.status_code == 401, path
        assert "log in" in response.json()["detail"]


def test_login_returns_token_and_sets_cookie(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    name = make_user(session_factory, Role.COMMANDER)
    response = client.post("/api/auth/login", json={"username": name, "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 30 * 60
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    me = client.get("/api/auth/me")  # the cookie alone authenticates the browser
    assert me.status_code == 200 and me.json()["username"] == name
    client.cookies.clear()
    me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["role"] == "commander"


def test_wrong_password_is_refused_and_audited(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    name = make_user(session_factory, Role.PLANNER)
    response = client.post("/api/auth/login", json={"username": name, "password": "wrong-one-x"})
    assert response.status_code == 401
    assert response.json()["detail"] == REFUSED
    unknown = client.post("/api/auth/login", json={"username": "nobody-x", "password": "x"})
    assert unknown.status_code == 401
    assert unknown.json()["detail"] == response.json()["detail"]
    with session_factory() as session:
        user_id = session.scalar(select(User.id).where(User.username == name))
        results = session.scalars(
            select(AuditRecord.result).where(
                AuditRecord.action == "auth.login", AuditRecord.target_id == str(user_id)
            )
        ).all()
    assert results == ["denied"]


def test_repeated_failures_lock_the_account_for_that_address(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    name = make_user(session_factory, Role.TOURISM)
    guesser = TestClient(client.app, client=("198.51.100.7", 50000))
    for _ in range(5):
        guesser.post("/api/auth/login", json={"username": name, "password": "bad-password"})
    response = guesser.post("/api/auth/login", json={"username": name, "password": PASSWORD})
    assert (
        response.status_code == 401
    )  # the same answer as a wrong password (tests/api/test_oracles.py)
    assert response.json()["detail"] == REFUSED


def test_idle_session_expires(client: TestClient, session_factory: sessionmaker[Session]) -> None:
    name = make_user(session_factory, Role.COMMANDER)
    headers = bearer(client, name)
    assert client.get("/api/auth/me", headers=headers).status_code == 200
    with session_factory() as session, session.begin():
        user_id = session.scalar(select(User.id).where(User.username == name))
        session.execute(
            update(AuthSession)
            .where(AuthSession.user_id == user_id)
            .values(last_seen_at=datetime.now(UTC) - timedelta(minutes=31))
        )
    response = client.get("/api/auth/me", headers=headers)
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_logout_revokes_the_token(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    headers = bearer(client, make_user(session_factory, Role.COMMANDER))
    assert client.post("/api/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/auth/me", headers=headers).status_code == 401


def test_database_outage_is_503_not_500() -> None:
    settings = Settings(
        database=DatabaseSettings(url="postgresql+psycopg2://postgres@127.0.0.1:1/none"),
        trusted_hosts=["testserver"],
    )
    with TestClient(create_app(settings)) as outage:
        response = outage.get("/api/layers", headers={"Authorization": "Bearer any"})
    assert response.status_code == 503
    assert response.json()["detail"] == "the database is unavailable; try again shortly"


def test_logout_is_immediate_even_with_the_session_cache(
    settings: Settings, session_factory: sessionmaker[Session], city: None
) -> None:
    cached = settings.model_copy(
        update={"security": settings.security.model_copy(update={"session_cache_seconds": 30})}
    )
    with TestClient(create_app(cached)) as app_client:
        headers = bearer(app_client, make_user(session_factory, Role.COMMANDER))
        assert app_client.get("/api/auth/me", headers=headers).status_code == 200
        assert app_client.post("/api/auth/logout", headers=headers).status_code == 204
        assert app_client.get("/api/auth/me", headers=headers).status_code == 401


def test_session_probe_says_only_whether_the_caller_is_logged_in(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    client.cookies.clear()
    anonymous = client.get("/api/auth/session")  # what the page asks before login: not a 401
    assert anonymous.status_code == 200 and anonymous.json() == {"authenticated": False}
    unknown = client.get("/api/auth/session", headers={"Authorization": "Bearer not-a-token"})
    assert unknown.status_code == 200 and unknown.json() == {"authenticated": False}
    name = make_user(session_factory, Role.PLANNER)
    client.post("/api/auth/login", json={"username": name, "password": PASSWORD})
    assert client.get("/api/auth/session").json() == {"authenticated": True}  # the cookie
    client.cookies.clear()
    headers = bearer(client, name)
    assert client.get("/api/auth/session", headers=headers).json() == {"authenticated": True}
    client.post("/api/auth/logout", headers=headers)
    ended = client.get("/api/auth/session", headers=headers)
    assert ended.status_code == 200 and ended.json() == {"authenticated": False}
