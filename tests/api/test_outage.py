"""A database outage (#14.9): 503 at once with a clear message, and recovery without a restart.

The app under test reaches the shared test database through a TCP proxy that the test
cuts (every connection reset, new ones refused: what clients see when PostgreSQL stops)
or stalls (connections taken and never answered: a hung host). The cluster itself is
never stopped: other tests use it. Times are printed, not asserted: what bounds them is
the configured connect timeout, which the stalled case shows by its log line.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from layers.accounts.roles import Role
from layers.features.models import Unit
from layers.settings import DatabaseSettings, Settings
from tests.api.test_limits import units_locked, wait_for_blocked
from tests.utils.tcp_proxy import TcpProxy, tcp_proxy
from tests.utils.users import bearer, make_user

CENTRE_TILE = "/tiles/units/12/3372/1552.mvt"  # the demo city's centre
UNAVAILABLE = {"detail": "the database is unavailable; try again shortly", "code": "Unavailable"}


@pytest.fixture
def proxy(database_url: str) -> Iterator[TcpProxy]:
    """A proxy in front of the run's database."""
    url = make_url(database_url)
    with tcp_proxy(url.host or "127.0.0.1", url.port or 5432) as started:
        yield started


@pytest.fixture
def behind_proxy(
    settings: Settings, proxy: TcpProxy, session_factory: sessionmaker[Session], city: None
) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """An app whose every connection goes through the proxy, and an admin's header."""
    url = make_url(settings.database.url or "").set(host="127.0.0.1", port=proxy.port)
    database = DatabaseSettings(url=url.render_as_string(hide_password=False), pool_size=3,
                                max_overflow=0)  # fmt: skip
    with TestClient(create_app(settings.model_copy(update={"database": database}))) as client:
        yield client, bearer(client, make_user(session_factory, Role.ADMIN))


def _timed(client: TestClient, method: str, path: str, **kwargs: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    response = client.request(method, path, **kwargs)
    return response, time.perf_counter() - started


def _paths(session_factory: sessionmaker[Session]) -> tuple[str, int]:
    with session_factory() as session:
        unit_id, version = session.execute(select(Unit.id, Unit.version).limit(1)).one()
    return f"/api/layers/units/features/{unit_id}", version


def test_requests_are_503_while_the_database_is_cut_and_succeed_once_it_returns(
    behind_proxy: tuple[TestClient, dict[str, str]], proxy: TcpProxy,
    session_factory: sessionmaker[Session], engine: Engine,
) -> None:  # fmt: skip
    client, admin = behind_proxy
    feature, version = _paths(session_factory)
    for path in (feature, CENTRE_TILE, "/api/layers"):
        assert client.get(path, headers=admin).status_code == 200, path
    client.app.state.tile_cache.clear()  # type: ignore[attr-defined]  # the tile from the database
    with units_locked(engine), ThreadPoolExecutor(2) as pool:  # two requests in the database
        in_flight = [pool.submit(_timed, client, "GET", path, headers=admin)
                     for path in (feature, CENTRE_TILE)]  # fmt: skip
        wait_for_blocked(engine, 2)
        proxy.cut()
        cut_short = [future.result() for future in in_flight]
    for response, _ in cut_short:
        assert response.status_code == 503 and response.json() == UNAVAILABLE
    write = {"headers": {**admin, "If-Match": f'"{version}"'},
             "json": {"properties": {"risk_level": 2}}}  # fmt: skip
    down = {
        "feature": _timed(client, "GET", feature, headers=admin),
        "tile": _timed(client, "GET", CENTRE_TILE, headers=admin),
        "write": _timed(client, "PATCH", feature, **write),
        "login": _timed(client, "POST", "/api/auth/login",
                        json={"username": "admin", "password": "whatever-it-is"}),
    }  # fmt: skip
    for name, (response, _) in down.items():
        assert response.status_code == 503, (name, response.text)
        assert response.json() == UNAVAILABLE and response.headers["Retry-After"] == "5"
    health = client.get("/api/health")
    assert health.status_code == 200 and health.json() == {"status": "ok",
                                                          "database": "unreachable"}  # fmt: skip
    ready = client.get("/api/ready")
    assert ready.status_code == 503 and ready.json()["database"] == "unreachable"
    print("\n503 after the cut, s: " + ", ".join(
        [f"in flight {seconds:.3f}" for _, seconds in cut_short]
        + [f"{name} {seconds:.3f}" for name, (_, seconds) in down.items()]))  # fmt: skip

    proxy.restore()  # the database is back: no restart of the app
    for path in (feature, CENTRE_TILE, "/api/layers"):
        assert client.get(path, headers=admin).status_code == 200, path
    assert client.get("/api/ready").status_code == 200
    assert client.get("/api/health").json()["database"] == "ok"


def test_a_database_that_never_answers_is_503_after_the_connect_timeout(
    behind_proxy: tuple[TestClient, dict[str, str]], proxy: TcpProxy,
    session_factory: sessionmaker[Session], caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    client, admin = behind_proxy
    feature, _ = _paths(session_factory)
    timeout_s = client.app.state.settings.database.connect_timeout_s  # type: ignore[attr-defined]
    assert timeout_s == 2  # the default, and libpq's least
    proxy.stall()
    with caplog.at_level(logging.ERROR, logger="api.errors"):
        stalled = {path: _timed(client, "GET", path, headers=admin)
                   for path in (feature, CENTRE_TILE)}  # fmt: skip
    for path, (response, _) in stalled.items():
        assert response.status_code == 503 and response.json() == UNAVAILABLE, path
    # what ended each wait was the connect timeout (libpq's, and the tile pool's own)
    reasons = [record.getMessage() for record in caplog.records if record.name == "api.errors"]
    assert len(reasons) == 2 and all("timeout expired" in reason for reason in reasons), reasons
    ready, ready_s = _timed(client, "GET", "/api/ready")
    assert ready.status_code == 503 and ready.json()["database"] == "unreachable"
    print("\n503 from a stalled database, s: " + ", ".join(
        [f"{path} {seconds:.3f}" for path, (_, seconds) in stalled.items()]
        + [f"ready {ready_s:.3f}"]))  # fmt: skip
    proxy.restore()
    assert client.get(feature, headers=admin).status_code == 200
    assert client.get(CENTRE_TILE, headers=admin).status_code == 200
