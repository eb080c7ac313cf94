"""Benchmark ``warroom import`` of a point CSV against ``ogr2ogr -f PostgreSQL`` with COPY.

For each repeat: a throwaway database on 127.0.0.1:5432, migrated, with the demo city's
districts, precincts and 100 units (so jurisdiction assignment has work to do and the
layer is not empty); both loaders load the same generated N-row CSV of units over
Beijing with the demo city's realistic names (``--sheet points``: id, name, category,
lon, lat; ``--sheet units``: also credit codes, addresses, risk, key-unit flags and
contacts), in alternating order from one repeat to the next, each after a CHECKPOINT
(so neither pays for flushing what the setup or the other wrote):

    flock /tmp/warroom-bench.lock .venv/bin/python bench/import_csv.py --rows 1000000 \
        --repeat 5 [--sheet units] [--existing 1000000] [--trace]

With ``--existing N`` both first load N other rows (untimed), so the timed rows go into
a large layer whose indexes are kept up to date row by row (ours: in place; ogr2ogr:
``-append`` into its table). ogr2ogr does less: no validation, no H3 cells, no
jurisdiction, no audit, one index. Prints each run, the medians and their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psycopg2
import psycopg2.extensions
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from importers.pipeline import run_import
from importers.report import ImportRequest
from layers.accounts.scope import SYSTEM
from layers.database import make_engine, make_sessionmaker
from layers.demo.geography import DISTRICTS
from layers.demo.load import load_demo_city
from layers.demo.units import categories, unit_columns
from layers.migrate import upgrade
from layers.settings import DatabaseSettings, Settings

SERVER = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"


SHEETS = ("points", "units")


def write_csv(
    path: Path, rows: int, sheet: str = "points", seed: int = 7, prefix: str = "b"
) -> None:
    """Write ``rows`` units at random points over Beijing, with the demo city's realistic names.

    ``points``: id, name, category, lon, lat. ``units``: a bureau's whole sheet, also with
    credit codes, addresses, risk levels, key-unit flags and contacts.
    """
    rng = np.random.default_rng(seed)
    district = rng.integers(0, len(DISTRICTS), rows)
    names = np.array([d.name for d in DISTRICTS])[district]
    codes = np.array([d.code for d in DISTRICTS])[district]
    columns = unit_columns(rng, categories(rng, rows), names, codes)
    if sheet == "points":
        columns = {"name": columns["name"], "category": columns["category"]}
    pd.DataFrame({
        "id": [f"{prefix}{i}" for i in range(rows)],
        **columns,
        "lon": rng.uniform(116.10, 116.70, rows).round(6),
        "lat": rng.uniform(39.70, 40.10, rows).round(6),
    }).to_csv(path, index=False)  # fmt: skip


def trace_statements(threshold_s: float = 0.05) -> None:
    """Print every statement of this process slower than ``threshold_s``, with its start.

    Wraps psycopg2's cursors, so it also sees the bulk load's own connections (index
    builds on two connections at once show as overlapping lines).
    """
    origin = time.perf_counter()

    class Timed(psycopg2.extensions.cursor):  # type: ignore[misc]
        def execute(self, sql: Any, vars: Any = None) -> Any:
            begun = time.perf_counter()
            try:
                return super().execute(sql, vars)
            finally:
                spent = time.perf_counter() - begun
                if spent > threshold_s:
                    line, thread = " ".join(str(sql).split())[:100], threading.current_thread()
                    print(f"    [{thread.name[:9]:9}] at {begun - origin:6.2f} s "
                          f"+{spent:5.2f} s  {line}", flush=True)  # fmt: skip

    connect = psycopg2.connect
    psycopg2.connect = lambda *a, **k: connect(*a, **{"cursor_factory": Timed, **k})


def ours(url: str, path: Path) -> float:
    """Import with the Warroom pipeline; return seconds."""
    engine = make_engine(Settings(database=DatabaseSettings(url=url)))
    started = time.perf_counter()
    marks: dict[str, float] = {}

    def progress(step: str, done: int, total: int) -> None:
        if done == total:
            marks[step] = time.perf_counter() - started

    report = run_import(session_factory=make_sessionmaker(engine), actor=SYSTEM,
                        request=ImportRequest(path=path, layer="units", id_field="id"),
                        max_vertices=10_000, progress=progress)  # fmt: skip
    print("  steps done at (s):", {step: round(t, 2) for step, t in marks.items()})
    seconds = time.perf_counter() - started
    print(report.summary())
    engine.dispose()
    return seconds


def ogr2ogr(url: str, path: Path, *, append: bool = False) -> tuple[float, str]:
    """Load the same CSV with ogr2ogr (COPY mode); return seconds and the command.

    With ``append`` the rows go into the table an earlier call made (``-append``).
    """
    u = make_url(url)
    command = ["/usr/bin/ogr2ogr", "-f", "PostgreSQL",
               f"PG:host={u.host} port={u.port} user={u.username} dbname={u.database}",
               str(path), "-oo", "X_POSSIBLE_NAMES=lon", "-oo", "Y_POSSIBLE_NAMES=lat",
               "-a_srs", "EPSG:4326", "-nln", "ogr_points", "-lco", "GEOMETRY_NAME=geom",
               "--config", "PG_USE_COPY", "YES", *(["-append"] if append else [])]  # fmt: skip
    started = time.perf_counter()
    subprocess.run(command, check=True)
    return time.perf_counter() - started, " ".join(command)


def checkpoint(server: str) -> None:
    """Flush what the setup or the other tool wrote, so that no run pays for another's."""
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CHECKPOINT"))
    admin.dispose()


@contextmanager
def bench_database(server: str) -> Iterator[str]:
    """Yield the URL of a fresh, migrated database with the demo city's boundaries."""
    name = f"warroom_bench_import_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        city_engine = make_engine(Settings(database=DatabaseSettings(url=url)))
        load_demo_city(city_engine, units=100)  # units=0 trips the generator (reported)
        city_engine.dispose()
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    """Run both loaders on one generated file (``--repeat`` times) and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--sheet",
        choices=SHEETS,
        default="points",
        help="points: id, name, category, lon, lat; units: every attribute",
    )
    parser.add_argument("--server", default=SERVER)
    parser.add_argument("--existing", type=int, default=0,
                        help="rows both tools load first, untimed: then the timed rows "
                             "go into a layer (table) of that size, indexes kept")  # fmt: skip
    parser.add_argument(
        "--trace", action="store_true", help="print the statements over 50 ms and when they started"
    )
    args = parser.parse_args()
    if args.trace:
        trace_statements()
    times: dict[str, list[float]] = {"warroom import": [], "ogr2ogr": []}
    command = ""
    with tempfile.TemporaryDirectory(prefix="warroom-bench-") as tmp:
        path = Path(tmp) / "points.csv"
        write_csv(path, args.rows, args.sheet)
        existing = Path(tmp) / "existing.csv"
        if args.existing:
            write_csv(existing, args.existing, args.sheet, seed=8, prefix="e")
        for run in range(args.repeat):
            with bench_database(args.server) as url:
                if args.existing:
                    ours(url, existing)
                    ogr2ogr(url, existing)
                for tool in ("ogr2ogr", "warroom import")[:: 1 if run % 2 == 0 else -1]:
                    checkpoint(args.server)
                    if tool == "ogr2ogr":
                        seconds, command = ogr2ogr(url, path, append=bool(args.existing))
                    else:
                        seconds = ours(url, path)
                    times[tool].append(seconds)
                    print(f"run {run + 1}: {tool} {seconds:.2f} s")
    into = f" into {args.existing:,} rows" if args.existing else ""
    print(f"rows: {args.rows:,} ({args.sheet}){into}; ogr2ogr command: {command}")
    for tool, runs in times.items():
        median = statistics.median(runs)
        print(f"{tool}: median {median:.2f} s ({args.rows / median:,.0f} rows/s); runs "
              + ", ".join(f"{t:.2f}" for t in runs))  # fmt: skip
    ratio = statistics.median(times["warroom import"]) / statistics.median(times["ogr2ogr"])
    print(f"warroom import / ogr2ogr (medians): {ratio:.2f}")


if __name__ == "__main__":
    main()
