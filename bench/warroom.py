"""Benchmark the wall (/warroom) in Chromium: time to interactive, and the main thread under load.

    flock /tmp/warroom-bench.lock .venv/bin/python -m bench.warroom --events-per-minute 2000

Uses its own database ``warroom_bench_wall`` on the local cluster (a demo city of
``--units`` units, loaded if empty), serves the app with uvicorn (one worker) and opens
/warroom at 1920x1080 in Debian's Chromium (headless, Playwright).

- **Interactive**: from navigation (the session cookie already set) until the page says
  it is ready (``body[data-ready]``: the map drawn with every tile of its first view loaded,
  core/map.js ``whenDrawn``, its layers and overlays added, panels filled, stream open), and
  Chromium's first paint and DOMContentLoaded, ``--loads`` times. The target is 3 s.
- **Compositing** (``--compositing``): this machine has no GPU. ``gpu`` (the default) has
  Chromium take SwiftShader, its software GL, for a GPU: the page is composited as on a wall
  PC with a graphics card, a WebGL frame handed to the compositor as a texture. ``software``
  is headless Chromium's own choice without a GPU: software compositing, which reads every
  WebGL frame back to memory on the page's main thread (a "Commit" task as long as the frame
  took SwiftShader to draw, 100-1,500 ms here): it measures the machine, not the page.
- **Under load**: ``--events-per-minute`` events for ``--seconds`` s, as vehicles
  reporting positions (``POST /api/tracks`` every 0.5 s: one ``feature.updated`` event each,
  the moves the wall draws) plus one new incident in twenty; Chromium's performance timeline
  (trace categories ``devtools.timeline`` and ``toplevel``) gives every task the page's main
  thread ran: the longest, the 99th percentile and how many took over 50 ms (target: none).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from datetime import UTC, datetime
from typing import Any

import httpx
from playwright.sync_api import Page, sync_playwright
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from bench.query import PASSWORD, free_port, serve
from layers.accounts.roles import Role
from layers.accounts.scope import SYSTEM
from layers.accounts.service import Jurisdiction, create_user
from layers.cluster import APP_ROLE, LocalCluster
from layers.crypto.keys import bind_key_ring, load_key_ring
from layers.database import make_sessionmaker
from layers.demo.load import load_demo_city
from layers.features.models import Unit, Vehicle
from layers.migrate import upgrade
from layers.settings import ClusterSettings, CryptoSettings, SecuritySettings

DATABASE = "warroom_bench_wall"
USER = "bench-wall"
CHROMIUM = "/usr/bin/chromium"
READY = "body[data-ready=true]"
LONG_TASK_MS = 50.0
RUN_TASK = {"RunTask", "ThreadControllerImpl::RunTask"}  # a task's trace event, old and new
# Chromium's switches per --compositing: SwiftShader taken for a GPU, or Chromium's default.
COMPOSITING = {
    "gpu": ["--ignore-gpu-blocklist", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
            "--enable-gpu-rasterization"],
    "software": [],
}  # fmt: skip


def prepare(units: int) -> str:
    """Return the app's URL of the benchmark database: created, migrated, loaded, with a user."""
    cluster = LocalCluster(ClusterSettings())
    cluster.ensure_database(DATABASE)
    upgrade(cluster.owner_url(DATABASE), app_role=APP_ROLE)
    keys = load_key_ring(CryptoSettings())
    owner = create_engine(cluster.owner_url(DATABASE))
    with Session(owner) as session:
        loaded = session.scalar(select(func.count()).select_from(Unit))
    if not loaded:
        started = time.perf_counter()
        load_demo_city(owner, units=units, seed=7, keys=keys)
        print(f"loaded {units} units in {time.perf_counter() - started:.0f} s")
        with owner.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    owner.dispose()
    url = cluster.url(DATABASE)
    engine = create_engine(url)
    factory = bind_key_ring(make_sessionmaker(engine), keys)
    with factory() as session, session.begin():
        known = session.execute(text("SELECT 1 FROM users WHERE username = :u"), {"u": USER})
        if not known.first():
            create_user(session=session, username=USER, password=PASSWORD, role=Role.COMMANDER,
                        where=Jurisdiction(), actor=SYSTEM, policy=SecuritySettings(),
                        must_change_password=False)  # fmt: skip
    engine.dispose()
    return url


def _vehicles(url: str) -> list[tuple[int, float, float]]:
    engine = create_engine(url)
    with Session(engine) as session:
        place = (func.ST_X(Vehicle.geom), func.ST_Y(Vehicle.geom))
        rows = session.execute(select(Vehicle.id, *place).order_by(Vehicle.id)).all()
    engine.dispose()
    return [(ident, lon, lat) for ident, lon, lat in rows]


def _open_wall(page: Page, base: str) -> dict[str, float]:
    """Open /warroom (logged in) and return its timings in ms from navigation start."""
    page.goto(f"{base}/warroom")
    page.wait_for_selector(READY, timeout=60_000)
    timings: dict[str, float] = page.evaluate("""() => {
      const nav = performance.getEntriesByType("navigation")[0];
      const paint = performance.getEntriesByName("first-contentful-paint")[0];
      return {ready: performance.now(), dom: nav.domContentLoadedEventEnd,
              paint: paint ? paint.startTime : NaN};
    }""")
    # the first view drawn whole, however the page defines ready (older pages did not wait)
    page.wait_for_function("() => window.warroomMap.loaded()", polling=50, timeout=60_000)
    timings["drawn"] = page.evaluate("performance.now()")
    return timings


def _drive(base: str, token: str, vehicles: list[tuple[int, float, float]], per_minute: int,
           seconds: float) -> int:  # fmt: skip
    """Post positions (and now and then an incident) at ``per_minute`` events; return events."""
    headers = {"Authorization": f"Bearer {token}"}
    per_tick = max(1, round(per_minute / 120))  # a batch every 0.5 s
    sent, tick, started = 0, 0, time.monotonic()
    with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
        while time.monotonic() - started < seconds:
            now = datetime.now(UTC)
            positions = []
            for n in range(per_tick):
                ident, lon, lat = vehicles[(tick * per_tick + n) % len(vehicles)]
                angle = (tick + n) / 10
                positions.append({"vehicle_id": ident, "at": now.isoformat(),
                                  "lon": lon + 0.002 * math.cos(angle),
                                  "lat": lat + 0.002 * math.sin(angle),
                                  "speed_kmh": 30.0, "heading_deg": 90.0})  # fmt: skip
            incidents = 1 if tick % 10 == 0 else 0
            answer = http.post("/api/tracks", json={"positions": positions[incidents:]})
            answer.raise_for_status()
            if incidents:
                ident, lon, lat = vehicles[tick % len(vehicles)]
                http.post("/api/layers/incidents/features", json={
                    "geometry": {"type": "Point", "coordinates": [lon, lat]},
                    "properties": {"name": "压测警情", "category": "other", "level": 2,
                                   "status": "open", "occurred_at": now.isoformat()}},
                ).raise_for_status()  # fmt: skip
            sent += per_tick
            tick += 1
            time.sleep(max(0.0, started + tick * 0.5 - time.monotonic()))
    return sent


def main_thread_tasks(trace: bytes) -> list[float]:
    """Return the durations (ms) of the tasks the renderer's main thread ran, from a trace."""
    events: list[dict[str, Any]] = json.loads(trace)["traceEvents"]
    main = {
        (e["pid"], e["tid"])
        for e in events
        if e.get("name") == "thread_name" and e["args"].get("name") == "CrRendererMain"
    }
    return [
        e["dur"] / 1000
        for e in events
        if e.get("name") in RUN_TASK and e.get("ph") == "X" and (e["pid"], e["tid"]) in main
    ]


def run(args: argparse.Namespace) -> None:
    """Serve the app, open the wall, time it, load it with events and read its main thread."""
    url = prepare(args.units)
    vehicles = _vehicles(url)
    port = str(free_port())
    base = f"http://127.0.0.1:{port}"
    env = {"WARROOM_DATABASE_URL": url, "WARROOM_PORT": port,
           "WARROOM_OPS_LOG_LEVEL": "WARNING"}  # fmt: skip
    command = [".venv/bin/uvicorn", "--factory", "warroom_ui.app:app_from_env", "--host",
               "127.0.0.1", "--port", port, "--workers", "1", "--log-level", "warning"]  # fmt: skip
    with serve(command, env, f"{base}/api/health"), sync_playwright() as playwright:
        login = httpx.post(f"{base}/api/auth/login", json={"username": USER, "password": PASSWORD})
        token = login.json()["access_token"]
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=COMPOSITING[args.compositing])  # fmt: skip
        context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
        context.request.post(f"{base}/api/auth/login",
                             data={"username": USER, "password": PASSWORD})  # fmt: skip
        page = context.new_page()
        _open_wall(page, base)  # a first load fills the browser's cache, as on a wall
        loads = [_open_wall(page, base) for _ in range(args.loads)]
        for name in ("paint", "dom", "ready", "drawn"):
            values = [load[name] for load in loads]
            print(
                f"{name:>6}: median {statistics.median(values):6.0f} ms, "
                f"max {max(values):6.0f} ms ({args.loads} loads)"
            )
        page.wait_for_timeout(3000)  # the first minute's refreshes settle
        categories = ["devtools.timeline", "toplevel"]
        if args.trace:
            categories += ["v8.execute", "v8"]
        browser.start_tracing(page=page, categories=categories)
        sent = _drive(base, token, vehicles, args.events_per_minute, args.seconds)
        trace = browser.stop_tracing()
        if args.trace:
            with open(args.trace, "wb") as out:
                out.write(trace)
        tasks = sorted(main_thread_tasks(trace))
        assert tasks, "the trace holds no task of the page's main thread"
        long = [t for t in tasks if t > LONG_TASK_MS]
        p99 = tasks[int(len(tasks) * 0.99)]
        print(
            f"{sent} events in {args.seconds:.0f} s ({sent * 60 / args.seconds:.0f}/min): "
            f"{len(tasks)} main-thread tasks, longest {tasks[-1]:.1f} ms, p99 {p99:.1f} ms, "
            f"over {LONG_TASK_MS:.0f} ms: {len(long)} {[round(t, 1) for t in long]}"
        )
        browser.close()


def main() -> None:
    """Parse the command line and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=20_000)
    parser.add_argument("--loads", type=int, default=5)
    parser.add_argument("--events-per-minute", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--compositing", choices=sorted(COMPOSITING), default="gpu")
    parser.add_argument("--trace", help="also write Chromium's trace (with V8's events) here")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
