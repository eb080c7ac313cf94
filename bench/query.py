"""Benchmark spatial questions on the demo city over HTTP, in the database, and against tipg.

    flock /tmp/warroom-bench.lock .venv/bin/python bench/query.py --requests 60 --reload

Creates (or reuses) the database ``warroom_bench_query`` on 127.0.0.1:5432, loads the
demo city if it is empty (or with ``--reload``), serves the app with uvicorn (1 worker) and, if
``--tipg`` points at a uvicorn with tipg installed, tipg on the same database, and with
``--baseline DIR`` the app of another checkout (the code before a change) beside ours,
the two taking turns request by request (on ``--baseline-database``, a copy of ours made
before the change's migrations, when the old code cannot read the new schema). One
sequential httpx client measures p50/p95 per question; the in-database time is the
sum of ``EXPLAIN ANALYZE`` planning + execution of the exact statements the domain
function issues (captured from the engine), median over the same request mix.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import socket
import statistics
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from shapely.geometry import Point, box
from sqlalchemy import Engine, create_engine, event, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from layers.accounts.roles import Role
from layers.accounts.scope import SYSTEM
from layers.accounts.service import Jurisdiction, create_user
from layers.crypto.keys import load_key_ring
from layers.database import ensure_database
from layers.demo.load import load_demo_city
from layers.features.models import Unit, Vehicle
from layers.features.near import nearest
from layers.features.query import FeatureQuery, list_features
from layers.features.registry import all_layers, get_layer
from layers.features.search import search_features
from layers.features.spatial import (
    Region,
    Relation,
    hexbins,
    query_region,
    region_around,
)
from layers.migrate import upgrade
from layers.settings import CryptoSettings, SecuritySettings

SERVER = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
DATABASE = "warroom_bench_query"
PASSWORD = "Load-Test-Pass-123"  # meets the password policy
# Bench users log in with a password alone (no TOTP for their admin role).
BENCH_AUTH = {"WARROOM_SECURITY_SECOND_FACTOR_ROLES": ""}
# Dense places: Tiananmen, Guomao, Zhongguancun, Wangjing, Xidan, Beijing South station.
CENTRES = [(116.3912, 39.9073), (116.4610, 39.9090), (116.3160, 39.9830),
           (116.4700, 39.9900), (116.3740, 39.9130), (116.3790, 39.8650)]  # fmt: skip
UNITS = get_layer("units")
HEX_BOUNDS = (116.30, 39.85, 116.50, 39.98)  # the old city, counted unit by unit
HEX_BOX = ",".join(map(str, HEX_BOUNDS))


def prepare_database(units: int, seed: int, database: str, *, reload: bool) -> str:
    """Return the URL of the benchmark database, created, migrated and loaded if needed."""
    url = ensure_database(SERVER, database)
    upgrade(url)
    engine = create_engine(url)
    with Session(engine) as session:
        loaded = session.scalar(select(func.count()).select_from(Unit))
    if reload or not loaded:
        started = time.perf_counter()
        load_demo_city(engine, units=units, seed=seed, replace=True,
                       keys=load_key_ring(CryptoSettings()))  # fmt: skip
        print(f"loaded {units} units in {time.perf_counter() - started:.0f} s")
        # The loader writes rows in H3 order (no CLUSTER needed); VACUUM sets the
        # visibility map autovacuum would set a little later, for index-only scans.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return url


def ensure_user(url: str) -> str:
    """Create the benchmark admin once; return its name."""
    engine = create_engine(url)
    name = "bench-admin"
    with Session(engine) as session, session.begin():
        exists = session.execute(text("SELECT 1 FROM users WHERE username = :n"), {"n": name})
        if exists.first() is None:
            create_user(session=session, username=name, password=PASSWORD, role=Role.ADMIN,
                        where=Jurisdiction(), actor=SYSTEM, policy=SecuritySettings(),
                        must_change_password=False)  # fmt: skip
    engine.dispose()
    return name


def free_port() -> int:
    """Return a free localhost TCP port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serve(
    command: list[str], env: dict[str, str], ready_url: str, cwd: str | None = None
) -> Iterator[None]:
    """Run a server process until the block ends; wait until ``ready_url`` answers."""
    process = subprocess.Popen(command, env={**os.environ, **BENCH_AUTH, **env}, cwd=cwd)
    try:
        for _ in range(600):
            try:
                if httpx.get(ready_url, timeout=2).status_code < 500:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield
    finally:
        process.terminate()
        process.wait(timeout=20)


def square_km2(lon: float, lat: float, area_km2: float) -> Any:
    """Return a square of ``area_km2`` centred on a point, in degrees."""
    half_m = math.sqrt(area_km2) * 1000 / 2
    dlat = half_m / 111_320
    dlon = half_m / (111_320 * math.cos(math.radians(lat)))
    return box(lon - dlon, lat - dlat, lon + dlon, lat + dlat)


Case = Callable[[int], tuple[str, str, Any]]


@dataclass(frozen=True)
class SearchTerms:
    """What the search rows type, taken from the loaded city: every run types the same."""

    words: tuple[str, ...]  # 3+ characters: whole unit names and pieces of addresses
    short: tuple[str, ...]  # 1-2 characters
    codes: tuple[str, ...]  # the first 10 characters of credit codes, the first 4 of plates


SHORT = ("大厦", "医院", "学校", "银行", "北", "公园")


def search_terms(url: str) -> SearchTerms:
    """Return the search terms of the database at ``url``: units spread over the id range."""
    engine = create_engine(url)
    with Session(engine) as session:
        total = int(session.scalar(select(func.count()).select_from(Unit)) or 0)
        units = [session.execute(select(Unit.name, Unit.address, Unit.credit_code)
                                 .order_by(Unit.id).offset(k * total // 6).limit(1)).one()
                 for k in range(6)]  # fmt: skip
        plates = session.scalars(select(Vehicle.plate).order_by(Vehicle.id).limit(3)).all()
    engine.dispose()
    words = [name for name, _, _ in units[:3]] + [(a or "")[3:9] for _, a, _ in units[3:]]
    codes = [(c or "")[:10] for _, _, c in units[:3]] + [p[:4] for p in plates]
    return SearchTerms(tuple(words), SHORT, tuple(codes))


def http_cases(terms: SearchTerms) -> dict[str, Case]:
    """Return each question as ``i -> (method, path, json body)``."""

    def centre(i: int) -> tuple[float, float]:
        return CENTRES[i % len(CENTRES)]

    def search(texts: tuple[str, ...]) -> Case:
        return lambda i: ("GET", f"/api/search?q={quote(texts[i % len(texts)])}", None)

    return {
        "polygon 10 km² (count + 1000 features)": lambda i: ("POST", "/api/spatial/query", {
            "layers": ["units"], "limit": 1000,
            "geometry": square_km2(*centre(i), 10).__geo_interface__}),
        "radius 2 km (count + 1000 features)": lambda i: ("POST", "/api/spatial/query", {
            "layers": ["units"], "limit": 1000, "point": list(centre(i)), "radius_m": 2000}),
        "k-nearest (k=10)": lambda i: (
            "GET", f"/api/layers/units/nearest?point={centre(i)[0]},{centre(i)[1]}&k=10", None),
        "hexbins whole city (res 7, sum risk)": lambda i: (
            "GET", "/api/layers/units/hexbins?resolution=7&sum=risk_level", None),
        "OGC items?limit=1000": lambda i: (
            "GET", "/ogc/collections/units/items?limit=1000", None),
        "search, names and addresses (all layers)": search(terms.words),
        "search, 1-2 characters (all layers)": search(terms.short),
        "search, code and plate prefixes (all layers)": search(terms.codes),
        "hexbins in a box (res 8, counted)": lambda i: (
            "GET", f"/api/layers/units/hexbins?bbox={HEX_BOX}&resolution=8", None),
    }  # fmt: skip


def db_cases(terms: SearchTerms) -> dict[str, Callable[[Session, int], Any]]:
    """Return the domain call behind each HTTP question (for EXPLAIN ANALYZE)."""

    def region(session: Session, i: int, reg: Region) -> Any:
        return query_region(session=session, spec=UNITS, actor=SYSTEM, region=reg,
                            relation=Relation.INTERSECTS,
                            query=FeatureQuery(limit=1000))  # fmt: skip

    def circle(i: int) -> Region:
        return region_around(Point(CENTRES[i % len(CENTRES)]), 2000.0, max_vertices=10)

    def search(texts: tuple[str, ...]) -> Callable[[Session, int], Any]:
        return lambda s, i: search_features(session=s, actor=SYSTEM, q=texts[i % len(texts)],
                                            specs=all_layers(), limit=20)  # fmt: skip

    names = list(http_cases(terms))
    return {
        names[0]: lambda s, i: region(s, i, Region(square_km2(*CENTRES[i % len(CENTRES)], 10))),
        names[1]: lambda s, i: region(s, i, circle(i)),
        names[2]: lambda s, i: nearest(session=s, spec=UNITS, actor=SYSTEM, k=10,
                                       point=Point(CENTRES[i % len(CENTRES)]),
                                       query=FeatureQuery()),
        names[3]: lambda s, i: hexbins(session=s, spec=UNITS, actor=SYSTEM, resolution=7,
                                       query=FeatureQuery(), sum_of="risk_level"),
        names[4]: lambda s, i: list_features(session=s, spec=UNITS, actor=SYSTEM,
                                             query=FeatureQuery(limit=1000)),
        names[5]: search(terms.words),
        names[6]: search(terms.short),
        names[7]: search(terms.codes),
        names[8]: lambda s, i: hexbins(session=s, spec=UNITS, actor=SYSTEM, resolution=8,
                                       query=FeatureQuery(bbox=HEX_BOUNDS)),
    }  # fmt: skip


def percentiles(samples: list[float]) -> tuple[float, float]:
    """Return (p50, p95) of ``samples``."""
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def time_turns(clients: list[httpx.Client], case: Case, requests: int,
               warmup: int = 3) -> list[list[float]]:  # fmt: skip
    """Return milliseconds per request of ``case`` for each client, taking turns per request.

    ``warmup`` unmeasured requests first; turns make every client see the same load.
    """
    out: list[list[float]] = [[] for _ in clients]
    for i in range(-warmup, requests):
        method, path, body = case(i)
        for client, samples in zip(clients, out, strict=True):
            started = time.perf_counter()
            response = client.request(method, path, json=body)
            elapsed = (time.perf_counter() - started) * 1000
            response.raise_for_status()
            if i >= 0:
                samples.append(elapsed)
    return out


def app_command(port: str, app_dir: str = ".") -> list[str]:
    """Return the uvicorn command serving the app of the checkout at ``app_dir``."""
    uvicorn = os.path.abspath(".venv/bin/uvicorn")
    return [uvicorn, "--app-dir", app_dir, "--factory", "api.app:app_from_env",
            "--host", "127.0.0.1", "--port", port, "--workers", "1",
            "--log-level", "warning"]  # fmt: skip


def logged_in(stack: ExitStack, base_url: str, user: str) -> httpx.Client:
    """Return a client of the app at ``base_url`` holding a session of ``user``."""
    login = httpx.post(f"{base_url}/api/auth/login", json={"username": user, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    return stack.enter_context(httpx.Client(base_url=base_url, headers=headers, timeout=60))


def time_in_database(engine: Engine, call: Callable[[Session, int], Any], runs: int) -> float:
    """Return the median over ``runs`` of summed EXPLAIN ANALYZE time of the call's SQL, ms."""
    captured: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if not statement.startswith(("EXPLAIN", "SET", "SELECT set_config")):
            captured.append((statement, params))

    event.listen(engine, "before_cursor_execute", capture)
    totals = []
    try:
        for i in range(runs):
            captured.clear()
            with Session(engine) as session:
                call(session, i)
                statements = list(captured)
                total = 0.0
                for statement, params in statements:
                    raw = (
                        session.connection()
                        .exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", params)
                        .scalar()
                    )
                    plan = raw[0] if isinstance(raw, list) else json.loads(raw)[0]
                    total += plan["Planning Time"] + plan["Execution Time"]
                totals.append(total)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    return statistics.median(totals)


def main() -> None:
    """Run the benchmark and print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--units", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--database", default=DATABASE, help="kept between runs; drop it by hand")
    parser.add_argument("--reload", action="store_true", help="reload the demo city first")
    parser.add_argument(
        "--tipg",
        default="/tmp/tipg-venv/bin/uvicorn",
        help="uvicorn of a venv with tipg installed ('' to skip)",
    )
    parser.add_argument(
        "--baseline",
        default="",
        help="another checkout of this project (the code before a change): served beside ours on "
        "the same database, every question taking turns between the two",
    )
    parser.add_argument(
        "--baseline-database",
        default="",
        help="the baseline's own database, already loaded (default: ours)",
    )
    args = parser.parse_args()
    url = prepare_database(args.units, args.seed, args.database, reload=args.reload)
    user = ensure_user(url)
    terms = search_terms(url)
    ours, tipg, base = (f"http://127.0.0.1:{free_port()}" for _ in range(3))
    pg = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    tipg_cmd = [args.tipg, "tipg.main:app", "--host", "127.0.0.1", "--port",
                tipg.rsplit(":", 1)[1], "--workers", "1", "--log-level", "warning"]  # fmt: skip
    env = {"WARROOM_DATABASE_URL": url}
    base_env = env
    if args.baseline_database:
        base_env = {"WARROOM_DATABASE_URL": ensure_database(SERVER, args.baseline_database)}
        ensure_user(base_env["WARROOM_DATABASE_URL"])
    rows: dict[str, list[float]] = {}
    baseline: dict[str, list[float]] = {}
    with ExitStack() as stack:
        stack.enter_context(serve(app_command(ours.rsplit(":", 1)[1]), env, f"{ours}/api/health"))
        if args.baseline:
            stack.enter_context(serve(app_command(base.rsplit(":", 1)[1], args.baseline), base_env,
                                      f"{base}/api/health", cwd=args.baseline))  # fmt: skip
        if args.tipg:
            stack.enter_context(serve(tipg_cmd, {"DATABASE_URL": pg}, f"{tipg}/collections"))
        clients = [logged_in(stack, ours, user)]
        if args.baseline:
            clients.append(logged_in(stack, base, user))
        for name, case in http_cases(terms).items():
            rows[name], *others = time_turns(clients, case, args.requests)
            if others:
                baseline[name] = others[0]
        if args.tipg:  # ours and tipg take turns, so both see the same machine load
            theirs = stack.enter_context(httpx.Client(base_url=tipg, timeout=60))
            items = http_cases(terms)["OGC items?limit=1000"]
            tipg_items: Case = lambda i: ("GET", "/collections/public.units/items?limit=1000", None)  # noqa: E731
            time_turns([theirs], tipg_items, 0)  # warm up
            rows["OGC items?limit=1000"], rows["tipg items?limit=1000"] = [], []
            for _ in range(args.requests):
                rows["OGC items?limit=1000"] += time_turns([clients[0]], items, 1, warmup=0)[0]
                rows["tipg items?limit=1000"] += time_turns([theirs], tipg_items, 1, warmup=0)[0]
    engine = create_engine(url)
    in_db = {name: time_in_database(engine, call, 15) for name, call in db_cases(terms).items()}
    engine.dispose()
    print_table(rows, in_db, baseline)
    if args.tipg:
        ratio = percentiles(rows["OGC items?limit=1000"])[0] / percentiles(
            rows["tipg items?limit=1000"])[0]  # fmt: skip
        print(f"\nours / tipg on items?limit=1000 (p50, interleaved): {ratio:.2f}")


def print_table(rows: dict[str, list[float]], in_db: dict[str, float],
                baseline: dict[str, list[float]]) -> None:  # fmt: skip
    """Print the Markdown table: HTTP p50/p95, in-database time, overhead (and the baseline)."""
    extra = " baseline HTTP p50 ms |" if baseline else ""
    print(f"| question | HTTP p50 ms | HTTP p95 ms | in-database ms (median) | overhead p50 ms |"
          f"{extra}")  # fmt: skip
    print("|---|---:|---:|---:|---:|" + ("---:|" if baseline else ""))
    for name, samples in rows.items():
        p50, p95 = percentiles(samples)
        db = f"{in_db[name]:.1f} | {p50 - in_db[name]:.1f}" if name in in_db else " | "
        theirs = f" {percentiles(baseline[name])[0]:.1f} |" if name in baseline else (
            " |" if baseline else "")  # fmt: skip
        print(f"| {name} | {p50:.1f} | {p95:.1f} | {db} |{theirs}")


if __name__ == "__main__":
    main()
