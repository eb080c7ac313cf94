"""Benchmark the demo-city load: a throwaway database, N units, seconds and rows/s per step.

.venv/bin/python bench/demo_load.py --units 1000000
"""

from __future__ import annotations

import argparse
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

import layers.features.models  # noqa: F401  (registers the feature tables)
from layers.base import Base
from layers.demo.load import DEFAULT_SEED, LoadReport, load_demo_city

DEFAULT_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"


@contextmanager
def throwaway_database(server_url: str) -> Iterator[Engine]:
    """Yield an engine on a new database with the feature schema; drop it afterwards."""
    name = f"warroom_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_engine(make_url(server_url).set(database=name))
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        Base.metadata.create_all(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def print_report(report: LoadReport, wall_s: float) -> None:
    """Print seconds per step, rows/s for the COPY steps and the totals."""
    print(f"{'step':34s} {'seconds':>8s} {'rows/s':>10s}")
    for step, seconds in report.seconds.items():
        table = step.split(" ", 1)[-1]
        rows = report.counts.get(table, 0) if step.startswith("copy ") else 0
        rate = f"{rows / seconds:10.0f}" if rows and seconds > 0 else ""
        print(f"{step:34s} {seconds:8.2f} {rate:>10s}")
    units = report.counts.get("units", 0)
    print(f"{'total (load_demo_city)':34s} {report.total_seconds:8.2f} "
          f"{units / report.total_seconds:10.0f} units/s")  # fmt: skip
    print(f"{'wall (incl. schema)':34s} {wall_s:8.2f}")
    print("rows:", ", ".join(f"{t}={n}" for t, n in report.counts.items()))


def main() -> None:
    """Run the benchmark from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("WARROOM_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--units", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args()
    start = time.perf_counter()
    with throwaway_database(args.url) as engine:
        report = load_demo_city(engine, units=args.units, seed=args.seed)
        wall_s = time.perf_counter() - start
    print(f"demo load of {args.units} units, seed {args.seed}, server {make_url(args.url).host}")
    print_report(report, wall_s)


if __name__ == "__main__":
    main()
