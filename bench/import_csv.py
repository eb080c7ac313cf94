"""Benchmark ``warroom import`` of a point CSV against ``ogr2ogr -f PostgreSQL`` with COPY.

Creates a throwaway database on 127.0.0.1:5432, migrates it, loads the demo city's
districts and precincts (no units) so jurisdiction assignment has work to do, writes
an N-row CSV of points over Beijing, then times both loaders on the same file:

    .venv/bin/python bench/import_csv.py --rows 1000000

ogr2ogr does less: no validation, no H3 cells, no jurisdiction, no audit.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from importers.pipeline import run_import
from importers.report import ImportRequest
from layers.accounts.scope import SYSTEM
from layers.database import make_engine, make_sessionmaker
from layers.demo.load import load_demo_city
from layers.migrate import upgrade
from layers.settings import DatabaseSettings, Settings

SERVER = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
CATEGORIES = np.array(["company", "school", "hospital", "mall", "hotel", "bank"])


def write_csv(path: Path, rows: int, seed: int = 7) -> None:
    """Write ``rows`` random points over central Beijing with ids, names and categories."""
    rng = np.random.default_rng(seed)
    pd.DataFrame({
        "id": [f"b{i}" for i in range(rows)],
        "name": [f"单位{i}" for i in range(rows)],
        "category": CATEGORIES[rng.integers(0, len(CATEGORIES), rows)],
        "lon": rng.uniform(116.10, 116.70, rows).round(6),
        "lat": rng.uniform(39.70, 40.10, rows).round(6),
    }).to_csv(path, index=False)  # fmt: skip


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


def ogr2ogr(url: str, path: Path) -> tuple[float, str]:
    """Load the same CSV with ogr2ogr (COPY mode); return seconds and the command."""
    u = make_url(url)
    command = ["/usr/bin/ogr2ogr", "-f", "PostgreSQL",
               f"PG:host={u.host} port={u.port} user={u.username} dbname={u.database}",
               str(path), "-oo", "X_POSSIBLE_NAMES=lon", "-oo", "Y_POSSIBLE_NAMES=lat",
               "-a_srs", "EPSG:4326", "-nln", "ogr_points", "-lco", "GEOMETRY_NAME=geom",
               "--config", "PG_USE_COPY", "YES"]  # fmt: skip
    started = time.perf_counter()
    subprocess.run(command, check=True)
    return time.perf_counter() - started, " ".join(command)


def main() -> None:
    """Run both loaders on one generated file and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--server", default=SERVER)
    args = parser.parse_args()
    name = f"warroom_bench_import_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(args.server).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        city_engine = make_engine(Settings(database=DatabaseSettings(url=url)))
        load_demo_city(city_engine, units=100)  # units=0 trips the generator (reported)
        city_engine.dispose()
        with tempfile.TemporaryDirectory(prefix="warroom-bench-") as tmp:
            path = Path(tmp) / "points.csv"
            write_csv(path, args.rows)
            ogr_s, command = ogr2ogr(url, path)
            ours_s = ours(url, path)
        print(f"rows: {args.rows:,}")
        print(f"warroom import: {ours_s:.1f} s ({args.rows / ours_s:,.0f} rows/s)")
        print(f"ogr2ogr:        {ogr_s:.1f} s ({args.rows / ogr_s:,.0f} rows/s)")
        print(f"ogr2ogr command: {command}")
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
