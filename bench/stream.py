"""Benchmark the live stream: how long a committed event takes to reach every client.

    flock /tmp/warroom-bench.lock .venv/bin/python -m bench.stream --clients 500 --events 200

Uses its own database ``warroom_bench_stream`` on 127.0.0.1:5432 (a small demo city,
loaded if empty) and serves the app with uvicorn (``--workers``). Opens ``--clients``
streams of one commander's session (asyncio, one process), waits until each has its first
message, then commits ``--events`` events one after another, ``--interval`` s apart,
each in a transaction of its own as a write door appends it. An event's latency at a
client is the time from its commit's return to that client reading it; the table gives
p50, p99 and the maximum over every (event, client), and the deliveries missing.

It also times the event log's insert trigger (migration 0026: the id drawn under the
lock, the feature's jurisdiction looked up): ``--rows`` feature events in one INSERT, as
vehicle moves write them, with the trigger and with it disabled (rolled back each time).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from contextlib import ExitStack

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from bench.query import PASSWORD, app_command, free_port, prepare_database, serve
from layers.accounts.roles import Role
from layers.accounts.scope import SYSTEM
from layers.accounts.service import Jurisdiction, create_user
from layers.audit.service import append_event
from layers.crypto.keys import bind_key_ring, load_key_ring
from layers.database import make_sessionmaker
from layers.settings import CryptoSettings, SecuritySettings

DATABASE = "warroom_bench_stream"
USER = "bench-stream"
_UNTRIGGERED = "ALTER TABLE events DISABLE TRIGGER events_before_insert"
_MOVES = """
INSERT INTO events (type, layer, feature_id, payload)
SELECT 'feature.updated', 'units', id, '{}' FROM units ORDER BY id LIMIT :rows
"""


async def _listen(
    http: httpx.AsyncClient, headers: dict[str, str], ready: asyncio.Event,
    heard: list[tuple[int, float]], wanted: int,
) -> None:  # fmt: skip
    async with http.stream("GET", "/api/events/stream", headers=headers,
                           params={"types": "bench"}) as response:  # fmt: skip
        assert response.status_code == 200, await response.aread()
        ready.set()
        count = 0
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                # the data line follows its id line; the id is inside the data too
                heard.append((int(line[12 : line.index(",")]), time.perf_counter()))
                count += 1
                if count == wanted:
                    return


def _write(url: str, events: int, interval_s: float) -> dict[int, float]:
    engine = create_engine(url)
    committed: dict[int, float] = {}
    for n in range(events):
        with Session(engine) as session, session.begin():
            event_id = append_event(session, type="bench.tick", actor=SYSTEM, payload={"n": n}).id
        committed[event_id] = time.perf_counter()
        time.sleep(interval_s)
    engine.dispose()
    return committed


async def _run(base: str, token: str, args: argparse.Namespace, url: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=args.clients + 10)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=None) as http:
        readies = [asyncio.Event() for _ in range(args.clients)]
        heard: list[list[tuple[int, float]]] = [[] for _ in range(args.clients)]
        tasks = [asyncio.create_task(_listen(http, headers, readies[i], heard[i], args.events))
                 for i in range(args.clients)]  # fmt: skip
        await asyncio.gather(*(ready.wait() for ready in readies))
        committed = await asyncio.to_thread(_write, url, args.events, args.interval)
        await asyncio.wait(tasks, timeout=30)
    latencies = [(t - committed[i]) * 1000 for client in heard for i, t in client if i in committed]
    missing = args.clients * args.events - len(latencies)
    latencies.sort()
    p50, p99 = statistics.median(latencies), latencies[int(len(latencies) * 0.99) - 1]
    print(f"| {args.clients} | {args.workers} | {args.events} | {p50:.1f} | {p99:.1f} | "
          f"{latencies[-1]:.1f} | {missing} |")  # fmt: skip


def _ensure_user(url: str) -> None:
    engine = create_engine(url)
    sessions = bind_key_ring(make_sessionmaker(engine), load_key_ring(CryptoSettings()))
    with sessions() as session, session.begin():
        found = session.execute(text("SELECT 1 FROM users WHERE username = :n"), {"n": USER})
        if found.first() is None:
            create_user(session=session, username=USER, password=PASSWORD, role=Role.COMMANDER,
                        where=Jurisdiction(), actor=SYSTEM, policy=SecuritySettings(),
                        must_change_password=False)  # fmt: skip
    engine.dispose()


def _time_trigger(url: str, rows: int, runs: int = 5) -> None:
    engine = create_engine(url)
    timings: dict[str, list[float]] = {"with": [], "without": []}
    for _ in range(runs):
        for case in timings:
            with engine.connect() as connection, connection.begin() as transaction:
                if case == "without":
                    connection.execute(
                        text("ALTER TABLE events DISABLE TRIGGER events_before_insert")
                    )
                started = time.perf_counter()
                connection.execute(text(_MOVES), {"rows": rows})
                timings[case].append((time.perf_counter() - started) * 1000)
                transaction.rollback()
    engine.dispose()
    median = {case: statistics.median(values) for case, values in timings.items()}
    print(f"\n{rows} feature events in one INSERT: {median['with']:.0f} ms with the trigger, "
          f"{median['without']:.0f} ms without (medians of {runs})")  # fmt: skip


def main() -> None:
    """Run the benchmark and print a Markdown row per run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--interval", type=float, default=0.05, help="seconds between commits")
    parser.add_argument("--rows", type=int, default=5_000)
    parser.add_argument("--units", type=int, default=20_000)
    args = parser.parse_args()
    url = prepare_database(args.units, 42, DATABASE, reload=False)
    _ensure_user(url)
    port = str(free_port())
    base = f"http://127.0.0.1:{port}"
    command = app_command(port)
    command[command.index("--workers") + 1] = str(args.workers)
    with ExitStack() as stack:
        stack.enter_context(serve(command, {"WARROOM_DATABASE_URL": url}, f"{base}/api/health"))
        login = httpx.post(f"{base}/api/auth/login", json={"username": USER, "password": PASSWORD})
        token = login.json()["access_token"]
        print("| clients | workers | events | p50 ms | p99 ms | max ms | missing |")
        print("|---:|---:|---:|---:|---:|---:|---:|")
        asyncio.run(_run(base, token, args, url))
    _time_trigger(url, args.rows)


if __name__ == "__main__":
    main()
