"""A session ended anywhere is refused at once by every worker (#14: 1).

Two apps on one database stand for two worker processes, each with its own session
cache (30 s here). A session is used on B, so B remembers it; then it is ended through
A, or by SQL as psql would; B's very next request is a 401. No waiting in between:
PostgreSQL hands the notification to B's listener when A commits, and B takes in what
has arrived before it reads its cache.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from layers.accounts.models import AuthSession, User
from layers.accounts.roles import Role
from layers.accounts.service import hash_token
from layers.settings import Settings
from tests.utils.users import PASSWORD, log_in, make_user

CENTRE_TILE = "/tiles/units/12/3372/1552.mvt"
WAIT_S = 30  # only bounds a hang: nothing is asserted on time


@pytest.fixture(scope="module")
def workers(settings: Settings, city: None) -> Iterator[tuple[TestClient, TestClient]]:
    """Two apps on the test database, each caching resolved sessions for 30 s."""
    policy = settings.security.model_copy(update={"session_cache_seconds": 30})
    cached = settings.model_copy(update={"security": policy})
    with TestClient(create_app(cached)) as a, TestClient(create_app(cached)) as b:
        for worker in (a, b):
            assert worker.app.state.revocations.wait_listening(WAIT_S)  # type: ignore[attr-defined]
        yield a, b


def remembered(worker: TestClient, token: str) -> bool:
    """Return whether ``worker`` holds the session in its cache (so no SQL would see a change)."""
    return worker.app.state.session_cache.get(hash_token(token)) is not None  # type: ignore[attr-defined]


def in_use_on(worker: TestClient, token: str) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    assert worker.get("/api/auth/me", headers=headers).status_code == 200
    assert worker.get(CENTRE_TILE, headers=headers).status_code in (200, 204)
    assert remembered(worker, token)
    return headers


def sql(factory: sessionmaker[Session], statement: object) -> None:
    with factory() as session, session.begin():
        session.execute(statement)  # type: ignore[call-overload]


def test_logout_in_one_worker_ends_the_session_in_the_other(
    workers: tuple[TestClient, TestClient], session_factory: sessionmaker[Session]
) -> None:
    a, b = workers
    token = log_in(a, make_user(session_factory, Role.COMMANDER))
    headers = in_use_on(b, token)
    assert a.post("/api/auth/logout", headers=headers).status_code == 204
    assert b.get("/api/auth/me", headers=headers).status_code == 401
    assert b.get(CENTRE_TILE, headers=headers).status_code == 401


def test_a_tile_request_is_refused_at_once_too(
    workers: tuple[TestClient, TestClient], session_factory: sessionmaker[Session]
) -> None:
    a, b = workers
    token = log_in(a, make_user(session_factory, Role.PLANNER))
    headers = in_use_on(b, token)
    assert a.post("/api/auth/logout", headers=headers).status_code == 204
    assert b.get(CENTRE_TILE, headers=headers).status_code == 401  # the cache's fast path


def test_a_password_change_ends_the_users_sessions_in_every_worker(
    workers: tuple[TestClient, TestClient], session_factory: sessionmaker[Session]
) -> None:
    a, b = workers
    name = make_user(session_factory, Role.COMMANDER)
    here, elsewhere = log_in(a, name), log_in(a, name)
    headers = in_use_on(b, elsewhere)
    change = {"old_password": PASSWORD, "new_password": "Changed-in-a-9"}
    changed = a.post("/api/auth/password", json=change, headers={"Authorization": f"Bearer {here}"})
    assert changed.status_code == 204
    assert b.get("/api/auth/me", headers=headers).status_code == 401
    assert in_use_on(b, here)  # the session that changed it goes on


def test_an_administrators_reset_ends_the_session_in_every_worker(
    workers: tuple[TestClient, TestClient], session_factory: sessionmaker[Session]
) -> None:
    a, b = workers
    name = make_user(session_factory, Role.TOURISM)
    headers = in_use_on(b, log_in(a, name))
    admin = {"Authorization": f"Bearer {log_in(a, make_user(session_factory, Role.ADMIN))}"}
    with session_factory() as session:
        user_id = session.scalar(select(User.id).where(User.username == name))
    reset = a.post(f"/api/admin/users/{user_id}/password-reset", headers=admin)
    assert reset.status_code == 200
    assert b.get("/api/auth/me", headers=headers).status_code == 401


@pytest.mark.parametrize(
    "ending",
    [
        lambda name, token: (
            update(AuthSession)
            .where(AuthSession.token_hash == hash_token(token))
            .values(revoked_at=AuthSession.last_seen_at)
        ),
        lambda name, token: update(User).where(User.username == name).values(is_active=False),
        lambda name, token: update(User).where(User.username == name).values(role="tourism"),
    ],
    ids=["session revoked", "user disabled", "role changed"],
)
def test_a_change_made_by_sql_reaches_every_worker(
    workers: tuple[TestClient, TestClient],
    session_factory: sessionmaker[Session],
    ending: Callable[[str, str], object],
) -> None:
    a, b = workers
    name = make_user(session_factory, Role.COMMANDER)
    token = log_in(a, name)
    headers = in_use_on(b, token)
    sql(session_factory, ending(name, token))
    assert not remembered(b, token)
    me = b.get("/api/auth/me", headers=headers)
    assert me.status_code == 401 or me.json()["role"] == "tourism"
