"""Operations over HTTP: readiness, metrics, request ids and the JSON log lines (#14: 8)."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr, ValidationError
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from api.ops.logs import configure_logging
from layers.accounts.roles import Role
from layers.migrate import MIGRATIONS_DIR, alembic_config
from layers.settings import DatabaseSettings, OpsSettings, Settings
from tests.api.test_limits import units_locked, wait_for_blocked
from tests.utils.users import PASSWORD, bearer, make_user

FEATURE_ROUTE = "/api/layers/{layer}/features/{feature_id}"
TILE_ROUTE = "/tiles/{layers}/{z}/{x}/{y}.mvt"
CENTRE_TILE = "/tiles/units/12/3372/1552.mvt"  # the demo city's centre
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """Every log record of the process as JSON lines in a buffer, for one test."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    buffer = io.StringIO()
    configure_logging(OpsSettings(log_format="json", log_level="INFO"), stream=buffer)
    yield buffer
    root.handlers[:] = handlers
    root.setLevel(level)


def log_lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    """Return the buffer's lines, each parsed as one JSON object."""
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def samples(client: TestClient, headers: dict[str, str]) -> Samples:
    """Return the app's metrics as {(sample name, labels): value}."""
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def requests_of(metrics: Samples, route: str) -> float:
    """Return how many 2xx GETs of ``route`` the metrics count."""
    labels = frozenset({"method": "GET", "route": route, "status": "2xx"}.items())
    return metrics.get(("warroom_http_requests_total", labels), 0.0)


def test_ready_on_a_migrated_database(client: TestClient) -> None:
    response = client.get("/api/ready")
    assert response.status_code == 200, response.text
    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    assert response.json() == {"status": "ready", "database": "ok", "migrations": "current",
                               "revision": head}  # fmt: skip


def test_ready_is_503_with_the_reason_while_the_schema_is_not_the_codes(
    settings: Settings, scratch_database_url: str
) -> None:
    script = ScriptDirectory(str(MIGRATIONS_DIR))
    head = script.get_revision("head")
    assert head is not None and isinstance(head.down_revision, str)
    command.stamp(alembic_config(scratch_database_url), head.down_revision)
    scratch = settings.model_copy(update={"database": DatabaseSettings(url=scratch_database_url)})
    engine = create_engine(scratch_database_url)
    try:
        with TestClient(create_app(scratch)) as app_client:
            behind = app_client.get("/api/ready")
            assert behind.status_code == 503
            assert behind.headers["Retry-After"] == "5"
            body = behind.json()
            assert body["code"] == "NotReady" and body["migrations"] == "behind"
            expected = (f"the database schema is at {head.down_revision}, this code needs "
                        f"{head.revision}: run 'warroom migrate'")  # fmt: skip
            assert body["detail"] == expected
            assert app_client.get("/api/health").status_code == 200  # alive all the same
            with engine.begin() as conn:
                conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
            ahead = app_client.get("/api/ready").json()
            assert ahead["migrations"] == "ahead" and "deploy the newer code" in ahead["detail"]
            with engine.begin() as conn:
                conn.execute(text("DROP TABLE alembic_version"))
            none = app_client.get("/api/ready")
            assert none.status_code == 503 and none.json()["migrations"] == "none"
    finally:
        engine.dispose()


def test_ready_is_503_when_the_database_does_not_answer(settings: Settings) -> None:
    nowhere = DatabaseSettings(url="postgresql+psycopg2://postgres@127.0.0.1:1/x")
    down = settings.model_copy(update={"database": nowhere})
    with TestClient(create_app(down)) as app_client:
        response = app_client.get("/api/ready")
    assert response.status_code == 503
    assert response.json()["detail"] == "the database does not answer"
    assert response.json()["database"] == "unreachable"


def test_health_answers_while_the_tile_pool_is_busy(
    settings: Settings, session_factory: sessionmaker[Session], engine: Engine, city: None
) -> None:
    one = settings.model_copy(update={"database": DatabaseSettings(
        url=settings.database.url, pool_size=1, max_overflow=0, statement_timeout_ms=3000,
    )})  # fmt: skip
    with TestClient(create_app(one)) as app_client, ThreadPoolExecutor(1) as pool:
        headers = bearer(app_client, make_user(session_factory, Role.PLANNER))
        with units_locked(engine):
            tile = pool.submit(app_client.get, CENTRE_TILE, headers=headers)
            wait_for_blocked(engine, 1)  # the one tile connection waits for the lock
            health = app_client.get("/api/health")
            assert health.status_code == 200
            assert not tile.done()  # health did not wait for the tile pool
        assert tile.result().status_code == 200


def test_metrics_are_the_administrators(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    assert client.get("/metrics").status_code == 401
    planner = bearer(client, make_user(session_factory, Role.PLANNER))
    refused = client.get("/metrics", headers=planner)
    assert refused.status_code == 403
    assert refused.json()["detail"] == "role 'planner' may not read the metrics"
    admin = bearer(client, make_user(session_factory, Role.ADMIN))
    assert client.get("/metrics", headers=admin).status_code == 200
    for role in (Role.SECURITY_ADMIN, Role.AUDITOR):  # 三权分立: operations are the admin's
        headers = bearer(client, make_user(session_factory, role))
        assert client.get("/metrics", headers=headers).status_code == 403, role


def test_metrics_count_requests_by_route_template(
    client: TestClient, admin: dict[str, str], settings: Settings
) -> None:
    before = samples(client, admin)
    for feature_id in (1, 2, 3):
        assert client.get(f"/api/layers/units/features/{feature_id}", headers=admin).is_success
    for _ in range(2):
        assert client.get(CENTRE_TILE, headers=admin).status_code == 200
    after = samples(client, admin)
    assert requests_of(after, FEATURE_ROUTE) == requests_of(before, FEATURE_ROUTE) + 3
    assert requests_of(after, TILE_ROUTE) == requests_of(before, TILE_ROUTE) + 2
    routes = {dict(labels).get("route") for _, labels in after}
    assert not any(route and "units/features/1" in route for route in routes)  # no raw paths
    labels = frozenset({"method": "GET", "route": FEATURE_ROUTE, "status": "2xx"}.items())
    latency = ("warroom_http_request_duration_seconds_count", labels)
    assert after[latency] == before.get(latency, 0.0) + 3
    plain = frozenset[tuple[str, str]]()
    assert after[("warroom_tile_cache_hits_total", plain)] >= 1  # the second tile was cached
    assert after[("warroom_db_pool_size", plain)] == settings.database.pool_size
    assert ("warroom_tile_pool_in_use", plain) in after
    assert after[("warroom_stream_clients", plain)] == 0


def test_a_scraper_may_use_the_configured_token(settings: Settings, city: None) -> None:
    token = "scrape-" + "x" * 30
    scraped = settings.model_copy(update={"ops": OpsSettings(metrics_token=SecretStr(token))})
    with TestClient(create_app(scraped)) as app_client:
        allowed = app_client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert allowed.status_code == 200 and "warroom_http_requests_total" in allowed.text
        wrong = app_client.get("/metrics", headers={"Authorization": f"Bearer {token}y"})
        assert wrong.status_code == 401
    with pytest.raises(ValidationError, match="must be 24 characters or more"):
        OpsSettings(metrics_token=SecretStr("too-short-to-guess-hard"))


def _raw_get(client: TestClient, path: str, request_id: bytes) -> dict[bytes, bytes]:
    """GET ``path`` straight through the ASGI app with a raw X-Request-ID; return the headers."""
    headers: dict[bytes, bytes] = {}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            headers.update(message["headers"])

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "headers": [(b"host", b"testserver"), (b"x-request-id", request_id)],
        "client": ("127.0.0.1", 5000), "server": ("testserver", 80), "state": {},
    }  # fmt: skip
    asyncio.run(client.app(scope, receive, send))  # type: ignore[arg-type]
    return headers


def test_a_plain_request_id_is_echoed_and_any_other_replaced(client: TestClient) -> None:
    echoed = client.get("/api/nothing-here", headers={"X-Request-ID": "lb-7f3a.2_x"})
    assert echoed.headers["X-Request-ID"] == "lb-7f3a.2_x"
    made = client.get("/api/nothing-here").headers["X-Request-ID"]
    assert len(made) == 32 and made.isalnum()
    long = client.get("/api/nothing-here", headers={"X-Request-ID": "a" * 500})
    assert len(long.headers["X-Request-ID"]) == 32
    for bad in (b"abc\r\nSet-Cookie: x=1", b"abc\ndef", b"a b", b"<script>", b""):
        replaced = _raw_get(client, "/api/nothing-here", bad)[b"x-request-id"]
        assert replaced != bad and len(replaced) == 32 and replaced.isalnum(), bad


def test_an_unexpected_error_is_one_json_line_with_the_answers_reference(
    settings: Settings, city: None, json_logs: io.StringIO
) -> None:
    app = create_app(settings)

    def explode() -> None:
        raise RuntimeError("boom\nsecond line")

    app.add_api_route("/test/explode", explode)
    with TestClient(app) as app_client:
        response = app_client.get("/test/explode", headers={"X-Request-ID": "incident-42"})
    assert response.status_code == 500
    assert response.headers["X-Request-ID"] == "incident-42"
    assert response.json() == {"detail": "internal error, reference incident-42",
                               "code": "InternalError", "reference": "incident-42"}  # fmt: skip
    lines = log_lines(json_logs)  # every line is one JSON object
    errors = [line for line in lines if line["level"] == "ERROR"]
    assert len(errors) == 1
    assert errors[0]["request_id"] == "incident-42"
    assert "RuntimeError: boom\nsecond line" in errors[0]["exception"]
    access = [line for line in lines if line["logger"] == "api.access"]
    assert [(a["request_id"], a["route"], a["status"]) for a in access] == [
        ("incident-42", "/test/explode", 500)
    ]
    assert set(access[0]) >= {"time", "method", "duration_ms", "message"}


def test_log_lines_carry_no_token_password_or_query(
    client: TestClient, session_factory: sessionmaker[Session], json_logs: io.StringIO
) -> None:
    name = make_user(session_factory, Role.COMMANDER)
    client.post("/api/auth/login", json={"username": name, "password": "wrong-password-x"})
    headers = bearer(client, name)
    token = headers["Authorization"].removeprefix("Bearer ")
    me = client.get("/api/auth/me", headers=headers)
    client.get("/api/layers?access_token=query-secret-1", headers=headers)
    client.get(CENTRE_TILE, headers=headers)
    server = [line for line in log_lines(json_logs) if line["logger"] != "httpx"]  # the client's
    for secret in (PASSWORD, "wrong-password-x", token, "query-secret-1"):
        assert secret not in json.dumps(server)
    access = [line for line in server if line["logger"] == "api.access"]
    assert [line["route"] for line in access] == [
        "/api/auth/login", "/api/auth/login", "/api/auth/me", "/api/layers", TILE_ROUTE,
    ]  # fmt: skip
    assert [line.get("user_id") for line in access[2:]] == [me.json()["id"]] * 3
