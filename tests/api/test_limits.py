"""What a request may cost: bodies capped per route and read only after login, spatial
questions bounded before they run, a few at once per user, health and login answering
while the pool is busy (issue #12, points 1 and 3)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from importers.settings import ImportSettings
from layers.accounts.roles import Role
from layers.settings import DatabaseSettings, LimitSettings, Settings
from tests.importers.test_limits import million_columns
from tests.utils.users import bearer, make_user

# A polygon around the city centre: the query reads the units table (which a test locks).
SQUARE = {"type": "Polygon",
          "coordinates": [[[116.3, 39.85], [116.5, 39.85], [116.5, 39.95], [116.3, 39.95],
                           [116.3, 39.85]]]}  # fmt: skip
QUERY = {"layers": ["units"], "geometry": SQUARE, "limit": 1}


def _asgi(client: TestClient, path: str, headers: dict[str, str], chunks: list[bytes],
          declared: int | None) -> tuple[int, dict[str, Any], int]:  # fmt: skip
    """POST ``chunks`` straight to the app; return status, JSON answer, body chunks read."""
    read = 0
    answer: dict[str, Any] = {"status": None, "body": b""}

    async def receive() -> dict[str, Any]:
        nonlocal read
        read += 1
        return {"type": "http.request", "body": chunks[read - 1], "more_body": read < len(chunks)}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        elif message["type"] == "http.response.body":
            answer["body"] += message.get("body", b"")

    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    raw += [(b"host", b"testserver"), (b"content-type", b"application/json")]
    if declared is not None:
        raw.append((b"content-length", str(declared).encode()))
    else:
        raw.append((b"transfer-encoding", b"chunked"))
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "headers": raw, "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80), "state": {},
    }  # fmt: skip
    asyncio.run(client.app(scope, receive, send))  # type: ignore[arg-type]
    return answer["status"], json.loads(answer["body"]), read


MB = 1024 * 1024


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-session"}])
@pytest.mark.parametrize("path", ["/api/spatial/query", "/api/layers/units/features"])
def test_a_body_without_a_live_session_is_401_before_it_is_read(
    client: TestClient, headers: dict[str, str], path: str
) -> None:
    status, answer, read = _asgi(client, path, headers, [b" " * MB], declared=MB)
    assert status == 401, answer
    assert read == 0  # not a byte of the body was read


def test_a_declared_body_over_the_cap_is_413_before_it_is_read(
    client: TestClient, admin: dict[str, str]
) -> None:
    declared = 41 * MB
    status, answer, read = _asgi(client, "/api/spatial/query", admin, [b" " * MB], declared)
    assert status == 413 and read == 0
    assert "limit of 2,097,152 bytes" in answer["detail"]


def test_a_streamed_body_is_cut_off_at_the_cap(client: TestClient, admin: dict[str, str]) -> None:
    chunks = [b" " * MB] * 41
    status, answer, read = _asgi(client, "/api/spatial/query", admin, chunks, declared=None)
    assert status == 413, answer
    assert read <= 3  # 2 MiB, then the chunk that passes it


def test_login_needs_no_session_but_has_a_small_cap(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    name = make_user(session_factory, Role.PLANNER)
    assert bearer(client, name)  # 200 without a session
    padded = {"username": name, "password": "x" * 20_000}
    response = client.post("/api/auth/login", json=padded)
    assert response.status_code == 413, response.text


def test_a_large_body_within_the_cap_is_answered(client: TestClient, admin: dict[str, str]) -> None:
    ring = [[116.3 + i * 1e-5, 39.85 + (i % 2) * 1e-3] for i in range(5000)]
    ring += [[116.3, 39.95], ring[0]]
    body = {"layers": ["units"], "limit": 0,
            "geometry": {"type": "Polygon", "coordinates": [ring]}}  # fmt: skip
    assert len(json.dumps(body)) > 64 * 1024
    response = client.post("/api/spatial/query", json=body, headers=admin)
    assert response.status_code == 200, response.text
    body["limit"] = -1
    response = client.post("/api/spatial/query", json=body, headers=admin)
    assert response.status_code == 422 and "body.limit" in response.json()["detail"]


def test_a_10000_point_line_grown_by_50_km_is_refused_before_it_runs(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    planner = bearer(client, make_user(session_factory, Role.PLANNER))
    line = [[116.2 + i * 2e-5, 39.9 + (i % 2) * 1e-4] for i in range(10_000)]
    body = {"layers": ["units"], "line": line, "buffer_m": 50_000, "limit": 10_000}
    response = client.post("/api/spatial/query", json=body, headers=planner)
    assert response.status_code == 422, response.text
    assert "at most 2,000 vertices; this one has 10,000" in response.json()["detail"]


def test_a_line_grown_over_too_large_an_area_is_refused(
    client: TestClient, admin: dict[str, str]
) -> None:
    body = {"layers": ["units"], "line": [[116.0, 39.9], [116.7, 39.9]], "buffer_m": 20_000}
    response = client.post("/api/spatial/query", json=body, headers=admin)
    assert response.status_code == 422, response.text
    assert "km², more than the limit of 2,000 km²" in response.json()["detail"]
    body["buffer_m"] = 300  # the same line with a street-sized buffer is fine
    assert client.post("/api/spatial/query", json=body, headers=admin).status_code == 200


@contextmanager
def units_locked(engine: Engine) -> Iterator[None]:
    """Hold an exclusive lock on the units table: queries of it wait until the end."""
    with engine.connect() as conn:
        conn.execute(text("LOCK TABLE units IN ACCESS EXCLUSIVE MODE"))
        yield
        conn.rollback()


def wait_for_blocked(engine: Engine, count: int) -> None:
    """Return once ``count`` statements of the app wait for a lock."""
    waiting = text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                   "AND datname = current_database()")  # fmt: skip
    for _ in range(2000):
        with engine.connect() as conn:
            if conn.scalar(waiting) >= count:
                return
        threading.Event().wait(0.01)
    raise AssertionError(f"{count} statements never blocked")


@pytest.fixture
def limited(settings: Settings, city: None) -> Iterator[TestClient]:
    """An app with 1 spatial query per user, 2 in all, and a pool of 3 connections."""
    tight = settings.model_copy(update={
        "limits": LimitSettings(queries_per_user=1, queries_total=2),
        "database": DatabaseSettings(url=settings.database.url, pool_size=3, max_overflow=0),
    })  # fmt: skip
    with TestClient(create_app(tight)) as app_client:
        yield app_client


def _ask(client: TestClient, headers: dict[str, str]) -> httpx.Response:
    return client.post("/api/spatial/query", json=QUERY, headers=headers)


def test_spatial_queries_at_once_are_bounded_per_user_and_in_all(
    limited: TestClient, session_factory: sessionmaker[Session], engine: Engine
) -> None:
    first, second, third = (bearer(limited, make_user(session_factory, Role.PLANNER))
                            for _ in range(3))  # fmt: skip
    commander = make_user(session_factory, Role.COMMANDER)
    with ThreadPoolExecutor(2) as pool:
        running: list[Future[httpx.Response]] = []
        with units_locked(engine):
            running.append(pool.submit(_ask, limited, first))
            wait_for_blocked(engine, 1)
            again = _ask(limited, first)
            assert again.status_code == 429, again.text
            assert again.headers["Retry-After"] == "2"
            assert "already have 1 spatial queries running" in again.json()["detail"]
            running.append(pool.submit(_ask, limited, second))
            wait_for_blocked(engine, 2)
            full = _ask(limited, third)
            assert full.status_code == 429 and "Retry-After" in full.headers
            # the pool still has a connection for logins and health
            assert bearer(limited, commander)
            assert limited.get("/api/health").status_code == 200
        assert [f.result().status_code for f in running] == [200, 200]
    assert _ask(limited, first).status_code == 200  # the slots are given back


def test_health_answers_while_every_pooled_connection_is_busy(
    settings: Settings, session_factory: sessionmaker[Session], engine: Engine, city: None
) -> None:
    one = settings.model_copy(update={
        "database": DatabaseSettings(url=settings.database.url, pool_size=1, max_overflow=0),
    })  # fmt: skip
    with TestClient(create_app(one)) as app_client, ThreadPoolExecutor(1) as pool:
        planner = bearer(app_client, make_user(session_factory, Role.PLANNER))
        with units_locked(engine):
            running = pool.submit(_ask, app_client, planner)
            wait_for_blocked(engine, 1)
            health = app_client.get("/api/health")
            assert health.status_code == 200 and health.json()["database"] == "ok"
        assert running.result().status_code == 200


def test_a_statement_timeout_says_so(
    settings: Settings, session_factory: sessionmaker[Session], engine: Engine, city: None
) -> None:
    quick = settings.model_copy(update={
        "database": DatabaseSettings(url=settings.database.url, statement_timeout_ms=200),
    })  # fmt: skip
    with TestClient(create_app(quick)) as app_client:
        planner = bearer(app_client, make_user(session_factory, Role.PLANNER))
        with units_locked(engine):
            response = _ask(app_client, planner)
    assert response.status_code == 503, response.text
    answer = response.json()
    assert answer["code"] == "QueryTimeout"
    assert "took longer than 0.2 s" in answer["detail"] and "narrow it" in answer["detail"]


def test_a_million_column_csv_is_a_422_at_upload(
    client: TestClient, session_factory: sessionmaker[Session], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setattr(client.app.state, "import_settings", ImportSettings(work_dir=tmp_path),  # type: ignore[attr-defined]
                        raising=False)  # fmt: skip
    commander = bearer(client, make_user(session_factory, Role.COMMANDER))
    wide = million_columns()
    response = client.post("/api/imports?layer=units", headers=commander,
                           files={"file": ("wide.csv", wide, "text/csv")},
                           data={"dry_run": "true"})  # fmt: skip
    assert response.status_code == 422, response.text
    assert "header line is longer than 65,536 bytes" in response.json()["detail"]
    assert list(tmp_path.iterdir()) == []  # no job, no file left
