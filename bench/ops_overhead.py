"""What the request observer (api/ops/middleware.py) costs a cached tile, in-process.

    .venv/bin/python -m bench.ops_overhead --requests 2000 --rounds 41

(Run it as a module: as a file, ``bench/`` would shadow the ``tiles`` package.)

Creates (or reuses) ``warroom_bench_ops`` on the server of ``WARROOM_DATABASE_URL`` or
the local cluster, migrated, with a small demo city, and builds the app three times:

- *without*: ``RequestObserver`` taken out of the middleware stack (the code before it);
- *observer, logs off*: the observer with the access log filtered out (level WARNING);
- *observer, JSON logs*: the observer writing one JSON line per request to /dev/null.

Each app's lifespan runs; one ``GET /tiles/units/12/3372/1552.mvt`` (gzip accepted, a
remembered session) renders and caches the tile, then the same request is sent straight
to the ASGI app ``--requests`` times per round, the three apps taking turns in each of
``--rounds`` rounds (short rounds in turns: a shared machine's load hits all three
alike). Prints CPU µs per request (median of the rounds' means, and their spread) and the
median over the rounds of each variant's excess over *without* in the same round.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import statistics
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from api.app import create_app
from api.ops.logs import configure_logging
from api.ops.middleware import RequestObserver
from layers.accounts.roles import Role
from layers.accounts.scope import SYSTEM
from layers.accounts.service import Jurisdiction, create_user, login
from layers.cluster import LocalCluster
from layers.crypto.keys import bind_key_ring, load_key_ring
from layers.database import ensure_database, make_sessionmaker
from layers.demo.load import database_is_empty, load_demo_city
from layers.migrate import upgrade
from layers.settings import DatabaseSettings, OpsSettings, SecuritySettings, Settings

DATABASE = "warroom_bench_ops"
TILE = "/tiles/units/12/3372/1552.mvt"  # the demo city's centre
PASSWORD = "Load-Test-Pass-123"  # meets the password policy


def prepare(units: int) -> tuple[Settings, str]:
    """Return settings on the benchmark database (made and loaded if needed) and a token."""
    given = Settings()
    server = given.database.url or LocalCluster(given.cluster).superuser_url()
    url = ensure_database(make_url(server).set(database="postgres").render_as_string(
        hide_password=False), DATABASE)  # fmt: skip
    upgrade(url)
    engine = create_engine(url)
    if database_is_empty(engine):
        load_demo_city(engine, units=units, seed=42, keys=load_key_ring(given.crypto))
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM auth_sessions WHERE user_id IN "
                          "(SELECT id FROM users WHERE username = 'bench')"))  # fmt: skip
        conn.execute(text("DELETE FROM users WHERE username = 'bench'"))
    sessions = bind_key_ring(make_sessionmaker(engine), load_key_ring(given.crypto))
    policy = SecuritySettings(session_cache_seconds=60, second_factor_roles=[])
    with sessions() as session, session.begin():
        create_user(session=session, username="bench", password=PASSWORD, role=Role.ADMIN,
                    where=Jurisdiction(), actor=SYSTEM, policy=policy,
                    must_change_password=False)  # fmt: skip
    with sessions() as session, session.begin():
        token = login(session=session, username="bench", password=PASSWORD, policy=policy,
                      source="127.0.0.1").token  # fmt: skip
    engine.dispose()
    return Settings(database=DatabaseSettings(url=url), security=policy), token


def without_observer(app: FastAPI) -> FastAPI:
    """Return ``app`` with the request observer taken out (before its stack is built)."""
    app.user_middleware = [m for m in app.user_middleware if m.cls is not RequestObserver]
    return app


def tile_scope(token: str) -> dict[str, Any]:
    """Return the ASGI scope of the benchmark's tile request."""
    headers = [(b"host", b"127.0.0.1"), (b"authorization", f"Bearer {token}".encode()),
               (b"accept-encoding", b"gzip")]  # fmt: skip
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": TILE, "raw_path": TILE.encode(), "query_string": b"",
        "root_path": "", "headers": headers, "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000), "state": {},
    }  # fmt: skip


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def time_requests(app: FastAPI, scope: dict[str, Any], count: int) -> float:
    """Send the request ``count`` times; return the mean CPU µs per request.

    CPU time of the process, not wall time: on a machine shared with other jobs the
    wall clock measures their load as much as our code.
    """
    statuses: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    started = time.process_time()
    for _ in range(count):
        await app(dict(scope), _receive, send)
    elapsed = time.process_time() - started
    assert set(statuses) == {200}, set(statuses)
    return elapsed / count * 1e6


@contextlib.asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[FastAPI]:
    """Run ``app``'s lifespan around the block."""
    async with app.router.lifespan_context(app):
        yield app


def set_access_log(on: bool) -> None:
    """Let the access lines through (to the configured handler) or filter them out."""
    logging.getLogger().setLevel(logging.INFO if on else logging.WARNING)


async def measure(settings: Settings, token: str, requests: int, rounds: int) -> None:
    """Time the three variants in turns and print the table."""
    scope = tile_scope(token)
    variants = {"without": (without_observer(create_app(settings)), False),
                "observer, logs off": (create_app(settings), False),
                "observer, JSON logs": (create_app(settings), True)}  # fmt: skip
    times: dict[str, list[float]] = {name: [] for name in variants}
    async with contextlib.AsyncExitStack() as stack:
        for app, _ in variants.values():
            await stack.enter_async_context(running(app))
            await time_requests(app, scope, 200)  # render, cache, warm up
        for _ in range(rounds):
            for name, (app, logs) in variants.items():
                set_access_log(logs)
                times[name].append(await time_requests(app, scope, requests))
    set_access_log(False)
    base = times["without"]
    print(f"\n{requests} cached-tile requests x {rounds} rounds, CPU µs per request")
    print("| variant | median | min-max of rounds | over without (median of rounds) |")
    print("|---|---:|---:|---:|")
    for name, values in times.items():
        extra = statistics.median(v - b for v, b in zip(values, base, strict=True))
        print(f"| {name} | {statistics.median(values):.1f} | "
              f"{min(values):.1f}-{max(values):.1f} | {extra:+.1f} |")  # fmt: skip


def main() -> None:
    """Parse the arguments, prepare the database and run the measurement."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=41)
    parser.add_argument("--units", type=int, default=5_000)
    args = parser.parse_args()
    settings, token = prepare(args.units)
    with open(os.devnull, "w") as devnull:
        configure_logging(OpsSettings(log_format="json", log_level="WARNING"), stream=devnull)
        asyncio.run(measure(settings, token, args.requests, args.rounds))


if __name__ == "__main__":
    main()
