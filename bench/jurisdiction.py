"""Benchmark how fast every feature follows a change of the boundaries, on the demo city.

    flock /tmp/warroom-bench.lock .venv/bin/python bench/jurisdiction.py --units 1000000 --repeat 3

Creates (or reuses) the database ``warroom_bench_jurisdiction`` on 127.0.0.1:5432,
migrated, with the demo city (loaded if empty or with ``--reload``). Each repeat times:

- *move a boundary*: the band of the most populous precinct along its longest shared
  edge given to that neighbour, two ``update_feature`` calls in one transaction (what two
  PATCHes do), rolled back;
- *check everything*: ``reassign_jurisdiction(NULL)`` with nothing to change, rolled back;
- *re-import the precincts*: the precincts exported to GeoJSON, imported again with
  ``--mode replace`` (``run_import``; boundaries matched by code keep their ids);
- *re-import them redrawn*: the same file with one precinct in ten merged into a
  neighbour of its district (~10 % of the units change precinct), then the original file
  again (they change back); each committed, then VACUUM.

Prints seconds per repeat and the median, and how many units each step moved to
another precinct.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import shapely
from shapely.geometry import mapping, shape
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from importers.export import export_layer
from importers.pipeline import run_import
from importers.report import ImportRequest
from layers.accounts.scope import SYSTEM
from layers.database import ensure_database
from layers.demo.load import load_demo_city
from layers.features.models import Unit
from layers.features.registry import get_layer
from layers.features.service import update_feature
from layers.migrate import upgrade

SERVER = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
DATABASE = "warroom_bench_jurisdiction"
PRECINCTS = get_layer("precincts")
MAX_VERTICES = 100_000
_NEIGHBOURS = """
SELECT p.id, q.id FROM precincts AS p JOIN precincts AS q
  ON q.id <> p.id AND ST_Intersects(p.geom, q.geom)
ORDER BY (SELECT count(*) FROM units AS u WHERE u.precinct_id = p.id) DESC,
         ST_Length(ST_Intersection(ST_Boundary(p.geom), ST_Boundary(q.geom))) DESC
LIMIT 1
"""
_WRITTEN = "SELECT count(*) FROM units WHERE xmin = pg_current_xact_id()::xid"


def prepare(units: int, seed: int, *, reload: bool) -> Engine:
    """Return an engine on the benchmark database, migrated and holding the demo city."""
    engine = create_engine(ensure_database(SERVER, DATABASE))
    upgrade(engine.url.render_as_string(hide_password=False))
    with Session(engine) as session:
        loaded = session.scalar(select(func.count()).select_from(Unit))
    if reload or loaded != units:
        load_demo_city(engine, units=units, seed=seed, replace=True)
        _vacuum(engine)
    return engine


def _vacuum(engine: Engine) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))


def _outline(session: Session, precinct: int) -> shapely.Geometry:
    wkb = session.scalar(text("SELECT ST_AsBinary(geom) FROM precincts WHERE id = :id"),
                         {"id": precinct})  # fmt: skip
    return shapely.from_wkb(bytes(wkb))


def move_boundary(engine: Engine) -> tuple[float, int]:
    """Give a precinct's band along its longest shared edge to the neighbour; roll back."""
    with Session(engine) as session:
        giver, taker = session.execute(text(_NEIGHBOURS)).one()
        giver_outline, taker_outline = _outline(session, giver), _outline(session, taker)
        band = shapely.intersection(giver_outline, shapely.buffer(taker_outline, 0.004))
        versions = dict(session.execute(text("SELECT id, version FROM precincts")).all())
        started = time.perf_counter()
        for precinct, outline in ((giver, shapely.difference(giver_outline, band)),
                                  (taker, shapely.union(taker_outline, band))):  # fmt: skip
            update_feature(session=session, spec=PRECINCTS, feature_id=precinct,
                           expected_version=versions[precinct], actor=SYSTEM, geometry=outline,
                           max_vertices=MAX_VERTICES)  # fmt: skip
        seconds = time.perf_counter() - started
        written = int(session.scalar(text(_WRITTEN)) or 0)
        session.rollback()
    return seconds, written


def check_everything(engine: Engine) -> tuple[float, int]:
    """Reassign the whole city when nothing has changed; roll back."""
    with Session(engine) as session:
        started = time.perf_counter()
        session.execute(text("SELECT reassign_jurisdiction(NULL)"))
        seconds = time.perf_counter() - started
        written = int(session.scalar(text(_WRITTEN)) or 0)
        session.rollback()
    return seconds, written


# One precinct in ten by code (codes survive re-imports, ids of re-inserted rows do not),
# merged into the neighbour of its district with the lowest code.
_MERGED = """
WITH ranked AS (
    SELECT id, code, district_id, geom, row_number() OVER (ORDER BY code) AS n FROM precincts
)
SELECT DISTINCT ON (q.code) p.code, q.code FROM ranked AS p JOIN ranked AS q
  ON p.n % 10 <> 0 AND q.n % 10 = 0 AND q.district_id = p.district_id
     AND ST_Intersects(p.geom, q.geom)
ORDER BY q.code, p.code
"""


def redrawn(engine: Engine, original: Path) -> Path:
    """Write the precinct file with one precinct in ten merged into a neighbour."""
    collection = json.loads(original.read_text())
    features = {f["properties"]["code"]: f for f in collection["features"]}
    with Session(engine) as session:
        merges = session.execute(text(_MERGED)).all()
    for keep, drop in merges:
        outline = shapely.union(shape(features[keep]["geometry"]),
                                shape(features.pop(drop)["geometry"]))  # fmt: skip
        features[keep]["geometry"] = mapping(outline)
    collection["features"] = list(features.values())
    path = original.with_name("precincts_redrawn.geojson")
    path.write_text(json.dumps(collection))
    return path


def reimport_precincts(engine: Engine, path: Path) -> tuple[float, int]:
    """Import a precinct file with ``--mode replace``; commit, then VACUUM.

    Return the seconds and how many units changed precinct.
    """
    request = ImportRequest(path=path, layer="precincts", mode="replace")
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS bench_placement"))
        connection.execute(text("CREATE UNLOGGED TABLE bench_placement AS "
                                "SELECT id, precinct_id FROM units"))  # fmt: skip
    started = time.perf_counter()
    report = run_import(session_factory=sessionmaker(bind=engine), request=request,
                        actor=SYSTEM, max_vertices=MAX_VERTICES)  # fmt: skip
    seconds = time.perf_counter() - started
    with engine.begin() as connection:
        lost = int(connection.scalar(
            text("SELECT count(*) FROM units WHERE precinct_id IS NULL")))  # fmt: skip
        moved = int(connection.scalar(text(
            "SELECT count(*) FROM units AS u JOIN bench_placement AS b USING (id) "
            "WHERE u.precinct_id IS DISTINCT FROM b.precinct_id"
        )))  # fmt: skip
        connection.execute(text("DROP TABLE bench_placement"))
    print(f"  {path.name}: {report.inserted} inserted, {report.updated} updated, "
          f"{report.deleted} deleted precincts; {lost} units in no precinct")  # fmt: skip
    _vacuum(engine)
    return seconds, moved


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--reload", action="store_true")
    args = parser.parse_args()
    engine = prepare(args.units, args.seed, reload=args.reload)
    with tempfile.TemporaryDirectory(prefix="warroom-bench-") as tmp:
        path = Path(tmp) / "precincts.geojson"
        with Session(engine) as session:
            export_layer(session=session, spec=PRECINCTS, actor=SYSTEM, fmt="geojson",
                         crs="wgs84", path=path)  # fmt: skip
        changed = redrawn(engine, path)
        steps: dict[str, Callable[[], tuple[float, int]]] = {
            "move a boundary (2 PATCHes)": lambda: move_boundary(engine),
            "check everything, nothing to change": lambda: check_everything(engine),
            "re-import the precincts, unchanged": lambda: reimport_precincts(engine, path),
            "re-import them redrawn (1 in 10 merged)": lambda: reimport_precincts(engine, changed),
            "re-import the original again": lambda: reimport_precincts(engine, path),
        }
        times: dict[str, list[float]] = {name: [] for name in steps}
        for repeat in range(args.repeat):
            for name, step in steps.items():
                seconds, count = step()
                times[name].append(seconds)
                print(f"repeat {repeat + 1}: {name}: {seconds:.3f} s ({count} rows)", flush=True)
    print(f"\n{'step':45s} {'median s':>9s}  runs")
    for name, runs in times.items():
        print(f"{name:45s} {statistics.median(runs):9.3f}  "
              f"{', '.join(f'{r:.3f}' for r in runs)}")  # fmt: skip


if __name__ == "__main__":
    main()
