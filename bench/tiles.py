"""Benchmark vector tiles: our server against tipg on one database, with curl -Z.

    .venv/bin/python -m bench.tiles     # 1,000,000 units, 2,000 tiles, c = 1, 4, 8

(Run it as a module: as a file, ``bench/`` would shadow the ``tiles`` package.)

Creates (once) ``warroom_tiles_bench`` on 127.0.0.1:5432 with the demo city, picks
about 2,000 distinct z8-z16 tiles over Beijing (no tile twice in one pass), times the
tile SQL alone in the database, then serves the same database with our app (cache off:
cold; cache on and primed: warm) and tipg, ``--workers`` uvicorn workers (default 1)
each and 8 pooled tile connections per worker, and requests every tile once per server
and concurrency with ``curl -Z`` (C, parallel, keep-alive; wrk cannot stop after N
requests, a Python client eats the cores). ``--reload`` loads the demo city afresh.
tipg comes from its own venv::

    python3 -m venv /tmp/tipg-venv && /tmp/tipg-venv/bin/pip install tipg 'uvicorn[standard]'
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg2
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.query import BENCH_AUTH
from geo.tiling import lonlat_to_tile, tiles_for_bbox
from layers.accounts.roles import Role
from layers.accounts.scope import CITY, SYSTEM
from layers.accounts.service import Jurisdiction, create_user
from layers.database import ensure_database, make_sessionmaker
from layers.demo.load import database_is_empty, load_demo_city
from layers.features.registry import all_layers, get_layer
from layers.migrate import upgrade
from layers.settings import SecuritySettings
from tiles.clusters import ensure_fresh
from tiles.render import TileAddress, tile_statement
from tiles.settings import TileSettings

ROOT = Path(__file__).resolve().parent.parent
SERVER = "postgresql+psycopg2://postgres@127.0.0.1:5432"
DATABASE = "warroom_tiles_bench"
BEIJING = (115.9, 39.6, 116.9, 40.25)  # the built-up city, where the units are
PASSWORD = "Load-Test-Pass-123"  # meets the password policy
PROPERTIES = "name,category,risk_level,is_key_unit"
Tile = tuple[int, int, int]


def prepare_database(units: int, seed: int, *, reload: bool = False) -> str:
    """Create, migrate and load the benchmark database unless it holds ``units`` units."""
    url = ensure_database(f"{SERVER}/postgres", DATABASE)
    upgrade(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        held = conn.execute(text("SELECT count(*) FROM units")).scalar_one()
    if held != units or reload:
        started = time.perf_counter()
        load_demo_city(engine, units=units, seed=seed, replace=not database_is_empty(engine))
        print(f"loaded {units:,} units in {time.perf_counter() - started:.1f} s")
    with engine.begin() as conn:
        conn.execute(
            text(
                "DELETE FROM auth_sessions WHERE user_id IN "
                "(SELECT id FROM users WHERE username = 'bench')"
            )
        )
        conn.execute(text("DELETE FROM users WHERE username = 'bench'"))
    with make_sessionmaker(engine)() as session, session.begin():
        create_user(session=session, username="bench", password=PASSWORD, role=Role.ADMIN,
                    where=Jurisdiction(), actor=SYSTEM, policy=SecuritySettings(),
                    must_change_password=False)  # fmt: skip
        for spec in all_layers():
            if spec.point_zoom:
                ensure_fresh(session, spec)  # a bulk load leaves every cluster to rebuild
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return url


def pick_tiles(url: str, count: int, seed: int) -> list[Tile]:
    """Return ``count`` distinct tiles: every z8-z10 tile of the city, the rest where units are."""
    rng = random.Random(seed)
    tiles = [(z, x, y) for z in (8, 9, 10) for x, y in tiles_for_bbox(BEIJING, z)]
    engine = create_engine(url)
    with engine.connect() as conn:
        points = conn.execute(
            text("SELECT ST_X(geom), ST_Y(geom) FROM units TABLESAMPLE SYSTEM (2) LIMIT 40000")
        ).all()
    engine.dispose()
    seen = set(tiles)
    for lon, lat in rng.sample(points, len(points)):
        if len(tiles) >= count:
            break
        z = rng.randint(11, 16)
        tile = (z, *lonlat_to_tile(lon, lat, z))
        if tile not in seen:
            seen.add(tile)
            tiles.append(tile)
    rng.shuffle(tiles)
    return tiles


def database_times(url: str, tiles: list[Tile]) -> dict[str, float]:
    """Time our tile SQL alone, serially on one connection; return ms figures and sizes.

    It is the very text and parameters the server sends (``TileStatement.sql``, ``params``).
    """
    specs, settings = (get_layer("units"),), TileSettings()
    statements = []
    for z, x, y in tiles:
        statement = tile_statement(specs, z, CITY, None, settings)
        assert statement is not None
        statements.append((statement.sql, statement.params(TileAddress(z, x, y))))
    parsed = make_url(url)
    conn = psycopg2.connect(host=parsed.host, port=parsed.port, user=parsed.username,
                            dbname=parsed.database)  # fmt: skip
    conn.autocommit = True
    times, low_zoom_sizes = [], []
    with conn.cursor() as cur:
        cur.execute("SET max_parallel_workers_per_gather = 0")
        for (z, _, _), (sql, params) in zip(tiles, statements, strict=True):
            started = time.perf_counter()
            cur.execute(sql, params)
            body = cur.fetchone()[0]  # type: ignore[index]
            times.append((time.perf_counter() - started) * 1000)
            if z <= 11:
                low_zoom_sizes.append(len(body or b""))
    conn.close()
    cuts = statistics.quantiles(times, n=100)
    return {
        "tiles_per_s": len(times) / (sum(times) / 1000),
        "p50_ms": cuts[49], "p95_ms": cuts[94], "p99_ms": cuts[98],
        "max_z8_11_bytes": max(low_zoom_sizes, default=0),
    }  # fmt: skip


@contextmanager
def serve(command: list[str], env: dict[str, str], probe: str) -> Iterator[None]:
    """Run a uvicorn server until the block ends; wait until ``probe`` answers."""
    process = subprocess.Popen(command, env={**os.environ, **BENCH_AUTH, **env}, cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    try:
        for _ in range(120):
            try:
                if httpx.get(probe, timeout=2).status_code < 500:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            raise RuntimeError(f"server did not start: {command}")
        yield
    finally:
        process.terminate()
        process.wait(timeout=30)


def load_pass(base: str, paths: list[str], headers: dict[str, str], connections: int) -> dict:
    """Request every path once over ``connections`` parallel connections (curl -Z)."""
    config = "".join(f'url = "{base}{path}"\noutput = "/dev/null"\n' for path in paths)
    with tempfile.NamedTemporaryFile("w", suffix=".curl", delete=False) as handle:
        handle.write(config)
    command = ["curl", "-s", "-g", "-Z", "--parallel-immediate", "--parallel-max",
               str(connections), "-K", handle.name, "-w", "%{http_code} %{size_download} "
               "%{time_total}\n"]  # fmt: skip
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    started = time.perf_counter()
    out = subprocess.run(command, capture_output=True, text=True, check=False).stdout
    seconds = time.perf_counter() - started
    os.unlink(handle.name)
    rows = [line.split() for line in out.splitlines() if line.strip()]
    latencies_ms = sorted(float(r[2]) * 1000 for r in rows)
    cuts = statistics.quantiles(latencies_ms, n=100)
    return {
        "requests": len(rows), "seconds": seconds, "req_per_s": len(rows) / seconds,
        "p50_ms": cuts[49], "p95_ms": cuts[94], "p99_ms": cuts[98],
        "bytes_per_tile": sum(int(r[1]) for r in rows) / max(len(rows), 1),
        "errors": sum(r[0] not in ("200", "204", "304") for r in rows) + len(paths) - len(rows),
    }  # fmt: skip


def token(base: str) -> str:
    """Log the bench user in on our server and return the bearer token."""
    response = httpx.post(f"{base}/api/auth/login",
                          json={"username": "bench", "password": PASSWORD})  # fmt: skip
    response.raise_for_status()
    return str(response.json()["access_token"])


def run(args: argparse.Namespace) -> dict:
    """Run the whole benchmark and return its figures."""
    url = prepare_database(args.units, args.seed, reload=args.reload)
    levels = [int(c) for c in args.concurrency.split(",")]
    tiles = pick_tiles(url, args.tiles, args.seed)
    figures: dict = {"tiles": len(tiles), "zooms": sorted({z for z, _, _ in tiles})}
    ours = [f"/tiles/units/{z}/{x}/{y}.mvt" for z, x, y in tiles]
    theirs = [f"/collections/public.units/tiles/WebMercatorQuad/{z}/{x}/{y}"
              f"?properties={PROPERTIES}&geom-column=geom" for z, x, y in tiles]  # fmt: skip
    pool = {"WARROOM_DATABASE_URL": url, "WARROOM_DATABASE_POOL_SIZE": "8",
            "WARROOM_DATABASE_MAX_OVERFLOW": "0"}  # fmt: skip
    uvicorn = ["--workers", str(args.workers), "--no-access-log", "--host", "127.0.0.1"]
    app = [str(ROOT / ".venv/bin/uvicorn"), "api.app:app_from_env", "--factory", *uvicorn]
    tipg = ["/tmp/tipg-venv/bin/uvicorn", "tipg.main:app", *uvicorn, "--port", "8103"]
    tipg_env = {"DATABASE_URL": url.replace("+psycopg2", ""), "DB_MIN_CONN_SIZE": "8",
                "DB_MAX_CONN_SIZE": "8", "TIPG_DB_TABLES": '["public.units"]'}  # fmt: skip
    gzip = {"Accept-Encoding": "gzip"}
    with serve(tipg, tipg_env, "http://127.0.0.1:8103/collections"):
        figures["tipg"] = {c: load_pass("http://127.0.0.1:8103", theirs, gzip, c) for c in levels}
    # timed just before our cold passes, whose p50 is held against it: the machine is shared
    figures["database"] = database_times(url, tiles)
    for label, cache in (("ours_cold", "0"), ("ours_warm", str(512 * 1024 * 1024))):
        env = {**pool, "WARROOM_TILES_CACHE_BYTES": cache}
        with serve([*app, "--port", "8101"], env, "http://127.0.0.1:8101/api/health"):
            headers = {**gzip, "Authorization": f"Bearer {token('http://127.0.0.1:8101')}"}
            if cache != "0":
                load_pass("http://127.0.0.1:8101", ours, headers, max(levels))  # prime
            figures[label] = {
                c: load_pass("http://127.0.0.1:8101", ours, headers, c) for c in levels
            }
    return figures


def main() -> None:
    """Parse arguments, run, print and save the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=1_000_000)
    parser.add_argument("--tiles", type=int, default=2000)
    parser.add_argument("--concurrency", default="1,4,8")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers, each server")
    parser.add_argument("--reload", action="store_true", help="load the demo city afresh")
    parser.add_argument("--out", type=Path, default=Path("/tmp/tiles_bench.json"))
    figures = run(parser.parse_args())
    text_ = json.dumps(figures, indent=2)
    parser.parse_args().out.write_text(text_)
    print(text_)


if __name__ == "__main__":
    main()
