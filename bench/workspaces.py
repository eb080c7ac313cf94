"""Benchmark the officer's, planner's and phone's pages in Chromium: time to interactive, and
a lasso over 10,000 units from mouse-up to the count on screen.

    flock /tmp/warroom-bench.lock .venv/bin/python -m bench.workspaces --units 100000

Uses its own database ``warroom_bench_workspaces`` on the local cluster (a demo city of
``--units`` units, loaded if empty), serves the app with uvicorn (one worker) and drives
Debian's Chromium (headless, Playwright) as a commander (city scope).

- **Interactive**: from navigation (the session cookie already set) until the page says it
  is ready (``body[data-ready=true]``: /officer its map drawn with the first view's tiles and
  the selection's count; /planner its map, drawing tool and perimeters; /m its home),
  ``--loads`` times after a first load that fills the browser's cache. The target is 2 s.
  ``--compositing`` as in bench/warroom.py.
- **Lasso**: a freehand lasso (36 mouse moves) around the densest place, holding at least
  ``--lasso-units`` units, from the mouse-up to the count shown (the page's own clock,
  ``--loads`` times). Baselines in the same run: the same ``POST /api/selections`` over
  HTTP alone (httpx, no browser) and the SQL count alone. The target is 300 ms.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from collections.abc import Callable
from typing import Any

import httpx
from playwright.sync_api import Page, Request, sync_playwright
from sqlalchemy import create_engine, text

from bench import warroom as wall
from bench.query import PASSWORD, free_port, serve
from layers.cluster import LocalCluster
from layers.settings import ClusterSettings

DATABASE = "warroom_bench_workspaces"
READY = "body[data-ready=true]"
# The units nearest the densest place: the lasso's centre and the radius holding them.
DENSE = """
WITH centre AS (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ST_X(geom)) AS x,
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY ST_Y(geom)) AS y FROM units)
SELECT x, y, (SELECT ST_Distance(u.geom, ST_SetSRID(ST_MakePoint(x, y), 4326)) FROM units u
              ORDER BY u.geom <-> ST_SetSRID(ST_MakePoint(x, y), 4326) OFFSET :n LIMIT 1)
FROM centre
"""
COUNT = "SELECT count(*) FROM units WHERE ST_Intersects(geom, ST_MakeValid(ST_GeomFromGeoJSON(:g)))"


def _the_selection(request: Request) -> bool:
    return request.url.endswith("/api/selections") and (
        (request.post_data_json or {}).get("limit") == 5000
    )


def _ms(work: Callable[[], Any], times: int) -> list[float]:
    found = []
    for _ in range(times):
        started = time.perf_counter()
        work()
        found.append((time.perf_counter() - started) * 1000)
    return found


def _line(name: str, values: list[float]) -> None:
    print(f"{name:>28}: median {statistics.median(values):6.0f} ms, max {max(values):6.0f} ms "
          f"({len(values)} runs)")  # fmt: skip


def _interactive(page: Page, base: str, path: str, loads: int) -> list[float]:
    timings = []
    for _ in range(loads + 1):  # the first fills the cache
        page.goto(f"{base}{path}")
        page.wait_for_selector(READY, timeout=60_000)
        timings.append(float(page.evaluate("performance.now()")))
    return timings[1:]


def _lasso(
    page: Page, centre: tuple[float, float], radius_deg: float
) -> tuple[float, dict[str, Any]]:
    """Draw a lasso just outside ``radius_deg`` around ``centre``; return ms and the request."""
    page.evaluate("([x, y, r]) => window.warroomMap.fitBounds([[x - r, y - r], [x + r, y + r]],"
                  " {padding: 40, animate: false})", [*centre, radius_deg * 1.3])  # fmt: skip
    page.click("button[data-mode=lasso]")
    box = page.locator("#map").bounding_box()
    assert box is not None
    edge = page.evaluate(
        "([x, y, r]) => { const m = window.warroomMap; const a = m.project([x, y]),"
        " b = m.project([x + r, y]); return [a.x, a.y, b.x - a.x]; }",
        [*centre, radius_deg * 1.1],
    )
    cx, cy, radius = box["x"] + edge[0], box["y"] + edge[1], edge[2]
    page.evaluate("""() => { window.benchUp = null;
      window.benchShown = document.querySelector("#selected-count");
      window.addEventListener("mouseup", () => { window.benchUp = performance.now(); },
                              { capture: true, once: true }); }""")
    page.mouse.move(cx + radius, cy)
    page.mouse.down()
    for step in range(1, 37):
        angle = step * math.pi / 18
        page.mouse.move(cx + radius * math.cos(angle), cy + radius * math.sin(angle))
    with page.expect_request(_the_selection) as sent:
        page.mouse.up()
    shown = page.wait_for_function("""() => {
      const count = document.querySelector("#selected-count");
      return count && count.dataset.count && window.benchShown !== count
        && (window.benchShown = count) && performance.now() - window.benchUp; }""",
                                   polling="raf")  # fmt: skip
    return float(shown.json_value()), dict(sent.value.post_data_json or {})


def run(args: argparse.Namespace) -> None:
    """Serve the app, time each page to interactive, and the lasso against its baselines."""
    wall.DATABASE = args.database  # the wall's preparation (city, user), in a database of our own
    url = wall.prepare(args.units)
    port = str(free_port())
    base = f"http://127.0.0.1:{port}"
    env = {"WARROOM_DATABASE_URL": url, "WARROOM_PORT": port, "WARROOM_OPS_LOG_LEVEL": "WARNING"}
    command = [".venv/bin/uvicorn", "--factory", "warroom_ui.app:app_from_env", "--host",
               "127.0.0.1", "--port", port, "--workers", "1", "--log-level", "warning"]  # fmt: skip
    engine = create_engine(LocalCluster(ClusterSettings()).owner_url(args.database))
    with engine.connect() as conn:
        x, y, radius_deg = conn.execute(text(DENSE), {"n": args.lasso_units}).one()
    with serve(command, env, f"{base}/api/health"), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=wall.CHROMIUM, headless=True,
                                             args=wall.COMPOSITING[args.compositing])  # fmt: skip
        context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
        context.request.post(
            f"{base}/api/auth/login", data={"username": wall.USER, "password": PASSWORD}
        )
        page = context.new_page()
        for path in ("/officer", "/planner", "/m"):
            _line(f"interactive {path}", _interactive(page, base, path, args.loads))
        page.goto(f"{base}/officer")
        page.wait_for_selector(READY)
        drawn = [_lasso(page, (x, y), radius_deg) for _ in range(args.loads)]
        body = drawn[-1][1]
        token = httpx.post(
            f"{base}/api/auth/login", json={"username": wall.USER, "password": PASSWORD}
        ).json()["access_token"]
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as http:
            count = http.post("/api/selections", json=body).json()["count"]
            alone = _ms(lambda: http.post("/api/selections", json=body).raise_for_status(),
                        args.loads)  # fmt: skip
        with engine.connect() as conn:
            lasso = json.dumps(body["lasso"])
            sql = _ms(lambda: conn.execute(text(COUNT), {"g": lasso}).scalar(), args.loads)
        print(f"lasso: {count:,} units, {len(body['lasso']['coordinates'][0])} vertices")
        _line("lasso, mouse-up to count", [ms for ms, _ in drawn])
        _line("POST /api/selections alone", alone)
        _line("SQL count alone", sql)
        browser.close()
    engine.dispose()


def main() -> None:
    """Parse the arguments and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--lasso-units", type=int, default=10_000)
    parser.add_argument("--loads", type=int, default=5)
    parser.add_argument("--database", default=DATABASE)
    parser.add_argument(
        "--compositing",
        choices=sorted(wall.COMPOSITING),
        default="gpu",
        help="as bench/warroom.py: SwiftShader as a GPU, or Chromium's default",
    )
    run(parser.parse_args())


if __name__ == "__main__":
    main()
