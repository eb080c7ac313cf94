"""Rerun the denial-of-service probes of issue #12 (points 1-3) against a real server.

    git archive 3a877c3 | tar -x -C /tmp/warroom-base   # the code before the change
    flock /tmp/warroom-bench.lock .venv/bin/python -m bench.probes --baseline /tmp/warroom-base

Serves the app with uvicorn (1 worker) on 127.0.0.1 on the demo city of
``bench/query.py``'s database (created and loaded if missing), a fresh server per
probe, and with ``--baseline DIR`` the code of another checkout (before the change)
the same way first. While each probe runs, ``/api/health`` is asked every 20 ms on a
connection of its own and the server's resident memory (VmRSS) is sampled.

- **bodies**: four unauthenticated POSTs of a 41 MB GeoJSON to ``/api/spatial/query``
  at once, sent by a raw client that stops sending when an answer comes;
- **csv**: a commander uploads a 9.9 MB CSV of 1,000,000 columns with ``dry_run``;
  a 202 job is followed until it ends (or ``--job-timeout``);
- **spatial**: sixteen queries of one planner at once: a 10,000-point line grown by
  50 km, limit 10,000; a login is timed in the middle;
- **heavy**: the same with lines just within the caps (2,000 points, 15 km: 1,600 km²);
- **idle**: nothing, for the health latency this machine gives anyway;
- **import**: a legitimate dry-run import of ``--rows`` units; memory after it ends.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import select
import socket
import statistics
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np
import pandas as pd
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from bench.query import BENCH_AUTH, PASSWORD, app_command, free_port, prepare_database
from layers.accounts.roles import Role
from layers.accounts.scope import SYSTEM
from layers.accounts.service import Jurisdiction, create_user
from layers.settings import SecuritySettings

MIN_WATCH_S = 3.0  # health is watched this long at least, however soon a probe ends
USERS = {"probe-planner": Role.PLANNER, "probe-commander": Role.COMMANDER}


@dataclass
class Outcome:
    """What one probe saw: answers, their times, health latency, server memory."""

    statuses: Counter[int] = field(default_factory=Counter)
    seconds: list[float] = field(default_factory=list)
    health_ms: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def ensure_users(url: str) -> None:
    """Create the probes' planner and commander once."""
    engine = create_engine(url)
    with Session(engine) as session, session.begin():
        for name, role in USERS.items():
            if session.execute(
                text("SELECT 1 FROM users WHERE username = :n"), {"n": name}
            ).first():
                continue
            create_user(session=session, username=name, password=PASSWORD, role=role,
                        where=Jurisdiction(), actor=SYSTEM, policy=SecuritySettings(),
                        must_change_password=False)  # fmt: skip
    engine.dispose()


@contextmanager
def server(app_dir: str, url: str) -> Iterator[tuple[str, int]]:
    """Serve the app of ``app_dir``; yield its base URL and process id."""
    port = str(free_port())
    env = {**os.environ, **BENCH_AUTH, "WARROOM_DATABASE_URL": url}
    process = subprocess.Popen(app_command(port, app_dir), cwd=app_dir, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield base, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def rss_mb(pid: int) -> float:
    """Return the resident memory of process ``pid`` in MB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def token(base: str, user: str) -> str:
    """Log ``user`` in; return the bearer token."""
    answer = httpx.post(f"{base}/api/auth/login", json={"username": user, "password": PASSWORD})
    return str(answer.json()["access_token"])


def raw_post(base: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, float]:
    """POST ``body`` as a client would, stopping when the answer comes; return status, s."""
    host, port = base.removeprefix("http://").split(":")
    head = [f"POST {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}",
            *(f"{k}: {v}" for k, v in headers.items()), "", ""]  # fmt: skip
    pending = memoryview("\r\n".join(head).encode() + body)
    started = time.perf_counter()
    with socket.create_connection((host, int(port))) as conn:
        conn.setblocking(False)
        while True:  # an answer that comes first ends the upload, as in a browser
            readable, _, _ = select.select([conn], [conn] if pending else [], [], 600)
            if readable:
                break
            with suppress(BlockingIOError, ConnectionError):
                pending = pending[conn.send(pending[: 1 << 16]) :]
        conn.setblocking(True)
        try:
            line = conn.recv(64).split(b"\r\n")[0]
        except ConnectionError:
            line = b""
    return (int(line.split()[1]) if line else 0), time.perf_counter() - started


async def watched(base: str, pid: int, work: Awaitable[None], outcome: Outcome) -> None:
    """Run ``work`` while asking for health every 20 ms and sampling the server's memory.

    Both watchers are threads of their own: the probe's client work must not delay them.
    """
    done, ready = threading.Event(), threading.Event()

    def health() -> None:
        with httpx.Client(base_url=base, timeout=120) as client:
            client.get("/api/health")  # connected and warm before the probe
            ready.set()
            until = time.perf_counter() + MIN_WATCH_S
            while not done.is_set() or time.perf_counter() < until:
                started = time.perf_counter()
                client.get("/api/health")
                outcome.health_ms.append((time.perf_counter() - started) * 1000)
                time.sleep(0.02)

    def memory() -> None:
        while not done.is_set():
            outcome.rss_mb.append(rss_mb(pid))
            time.sleep(0.05)

    watchers = [threading.Thread(target=health), threading.Thread(target=memory)]
    for watcher in watchers:
        watcher.start()
    ready.wait()
    try:
        await work
    finally:
        done.set()
        for watcher in watchers:
            watcher.join()


def polygon_bytes(megabytes: float) -> bytes:
    """Return a GeoJSON spatial query whose polygon makes it ``megabytes`` long."""
    count = int(megabytes * 1e6 / 22.9)
    angles = np.linspace(0, 2 * np.pi, count)
    ring = ",".join(f"[{116.4 + 0.1 * np.cos(a):.6f},{39.9 + 0.1 * np.sin(a):.6f}]"
                    for a in angles)  # fmt: skip
    return ('{"layers":["units"],"geometry":{"type":"Polygon","coordinates":[['
            + ring + "]]}}").encode()  # fmt: skip


def probe_bodies(base: str, pid: int, outcome: Outcome) -> None:
    """Four unauthenticated 41 MB bodies at once."""
    body = polygon_bytes(41)
    outcome.notes.append(f"body {len(body) / 1e6:.1f} MB")

    async def work() -> None:
        headers = {"Content-Type": "application/json"}
        results = await asyncio.gather(*(asyncio.to_thread(raw_post, base, "/api/spatial/query",
                                                           headers, body)
                                         for _ in range(4)))  # fmt: skip
        for status, seconds in results:
            outcome.statuses[status] += 1
            outcome.seconds.append(seconds)

    asyncio.run(watched(base, pid, work(), outcome))


def wide_csv() -> bytes:
    """The issue's CSV: 1,000,000 columns and one row (9.9 MB)."""
    header = b",".join(b"c%d" % i for i in range(1_000_000))
    return header + b"\n" + b"1," * 999_999 + b"1\n"


def multipart(name: str, data: bytes, fields: dict[str, str]) -> tuple[bytes, str]:
    """Return a multipart/form-data body with one file and fields, and its content type."""
    boundary = "probe-boundary-7f3a"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in fields.items()]  # fmt: skip
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                 f'filename="{name}"\r\nContent-Type: text/csv\r\n\r\n'.encode())  # fmt: skip
    return b"".join(parts) + data + f"\r\n--{boundary}--\r\n".encode(), boundary


def upload(base: str, pid: int, outcome: Outcome, name: str, data: bytes,
           job_timeout: float) -> None:  # fmt: skip
    """Upload ``data`` for a dry-run import of units; follow the job until it ends."""
    auth = {"Authorization": f"Bearer {token(base, 'probe-commander')}"}
    body, boundary = multipart(name, data, {"layer": "units", "dry_run": "true"})
    headers = {**auth, "Content-Type": f"multipart/form-data; boundary={boundary}"}

    async def work() -> None:
        started = time.perf_counter()
        async with httpx.AsyncClient(base_url=base, timeout=600) as client:
            answer = await client.post("/api/imports", content=body, headers=headers)
            outcome.statuses[answer.status_code] += 1
            outcome.seconds.append(time.perf_counter() - started)
            if answer.status_code != 202:
                outcome.notes.append(answer.json()["detail"][:90])
                return
            job_id = answer.json()["id"]
            while time.perf_counter() - started < job_timeout:
                job = (await client.get(f"/api/imports/{job_id}", headers=auth)).json()
                if job["status"] in ("finished", "failed"):
                    outcome.notes.append(f"job {job['status']} after "
                                         f"{time.perf_counter() - started:.1f} s: "
                                         f"{(job['error'] or '')[:70]}")  # fmt: skip
                    break
                await asyncio.sleep(0.5)
            else:
                outcome.notes.append(f"job still running after {job_timeout:.0f} s")
        await asyncio.sleep(1.0)  # memory after the job, once its frames are gone

    outcome.notes.append(f"rss before {rss_mb(pid):.0f} MB")
    asyncio.run(watched(base, pid, work(), outcome))
    outcome.notes.append(f"rss after {rss_mb(pid):.0f} MB")


def units_csv(rows: int) -> bytes:
    """Return a CSV of ``rows`` plausible units around the city centre."""
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({
        "编号": [f"probe-{i}" for i in range(rows)], "单位名称": [f"单位{i}" for i in range(rows)],
        "类别": "company", "经度": rng.uniform(116.2, 116.6, rows).round(6),
        "纬度": rng.uniform(39.8, 40.0, rows).round(6),
    })  # fmt: skip
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode()


def probe_idle(base: str, pid: int, outcome: Outcome) -> None:
    """Nothing but the health watcher: the noise floor of this machine now."""
    asyncio.run(watched(base, pid, asyncio.sleep(0), outcome))


def probe_spatial(base: str, pid: int, outcome: Outcome, *, vertices: int = 10_000,
                  buffer_m: float = 50_000) -> None:  # fmt: skip
    """Sixteen ``vertices``-point lines (30 km) grown by ``buffer_m`` at once, one planner.

    A login is timed in the middle.
    """
    auth = {"Authorization": f"Bearer {token(base, 'probe-planner')}"}
    step = 0.3 / vertices
    line = [[round(116.25 + i * step, 6), round(39.9 + (i % 2) * 1e-4, 6)]
            for i in range(vertices)]  # fmt: skip
    body = json.dumps({"layers": ["units"], "line": line, "buffer_m": buffer_m, "limit": 10_000})
    auth["Content-Type"] = "application/json"

    async def one(client: httpx.AsyncClient) -> None:
        started = time.perf_counter()
        answer = await client.post("/api/spatial/query", content=body, headers=auth)
        outcome.seconds.append(time.perf_counter() - started)
        outcome.statuses[answer.status_code] += 1
        if answer.status_code >= 400:
            note = f"{answer.status_code}: {answer.json()['detail'][:100]}"
            if note not in outcome.notes:  # each distinct answer once
                outcome.notes.append(note)

    async def login() -> None:
        await asyncio.sleep(1.0)
        started = time.perf_counter()
        async with httpx.AsyncClient(base_url=base, timeout=600) as client:
            answer = await client.post("/api/auth/login", json={"username": "probe-commander",
                                                                "password": PASSWORD})  # fmt: skip
        outcome.notes.append(f"login {answer.status_code} in "
                             f"{time.perf_counter() - started:.2f} s")  # fmt: skip

    async def work() -> None:
        limits = httpx.Limits(max_connections=32)
        async with httpx.AsyncClient(base_url=base, timeout=600, limits=limits) as client:
            await asyncio.gather(*(one(client) for _ in range(16)), login())

    asyncio.run(watched(base, pid, work(), outcome))


def summary(name: str, probe: str, outcome: Outcome) -> str:
    """Return one Markdown row of a probe's outcome."""
    statuses = ", ".join(f"{n}× {s}" for s, n in sorted(outcome.statuses.items()))
    health = sorted(outcome.health_ms) or [0.0]
    p95 = health[int(0.95 * (len(health) - 1))]
    return (f"| {name} | {probe} | {statuses} | {max(outcome.seconds, default=0):.2f} | "
            f"{statistics.median(health):.1f} / {p95:.1f} / {max(health):.1f} | "
            f"{sum(ms > 100 for ms in health)} of {len(health)} | "
            f"{max(outcome.rss_mb, default=0):.0f} | {'; '.join(outcome.notes)} |")  # fmt: skip


def main() -> None:
    """Run every probe against the baseline (if given) and this checkout; print a table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--units", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--database", default="warroom_bench_query")
    parser.add_argument("--baseline", default="", help="checkout of the code before the change")
    parser.add_argument("--job-timeout", type=float, default=90.0)
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--probes", default="idle,bodies,spatial,heavy,csv,import")
    args = parser.parse_args()
    url = prepare_database(args.units, args.seed, args.database, reload=False)
    ensure_users(url)
    probes: dict[str, Callable[[str, int, Outcome], Any]] = {
        "idle": probe_idle,
        "bodies": probe_bodies,
        "spatial": probe_spatial,
        "heavy": lambda b, p, o: probe_spatial(b, p, o, vertices=2_000, buffer_m=15_000),
        "csv": lambda b, p, o: upload(b, p, o, "wide.csv", wide_csv(), args.job_timeout),
        "import": lambda b, p, o: upload(b, p, o, "units.csv", units_csv(args.rows),
                                         args.job_timeout),
    }  # fmt: skip
    checkouts = [("baseline", args.baseline)] if args.baseline else []
    rows = []
    for name, app_dir in [*checkouts, ("ours", ".")]:
        for probe in args.probes.split(","):
            outcome = Outcome()
            with server(os.path.abspath(app_dir), url) as (base, pid):
                probes[probe](base, pid, outcome)
            rows.append(summary(name, probe, outcome))
            print(rows[-1], flush=True)
    print(
        "\n| code | probe | answers | slowest s | health p50 / p95 / max ms "
        "| health > 100 ms | peak RSS MB | notes |"
    )
    print("|---|---|---|---:|---:|---:|---:|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
