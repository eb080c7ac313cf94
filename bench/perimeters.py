"""Benchmark perimeters at scale: a district-sized perimeter's contents, a lasso selection.

    flock /tmp/warroom-bench.lock .venv/bin/python -m bench.perimeters --units 1000000

Uses a demo city as ``bench/records.py`` does (in ``warroom_bench_perimeters`` on
127.0.0.1:5432, loaded if empty, with its year of records). The perimeter's outer ring
is the demo district holding Tiananmen, its control ring 3 km around the square, its
core 800 m. Each figure is the domain function against the same question written by
hand in PostGIS SQL (the baseline), taking turns in one process, each run in a fresh
session.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from shapely.geometry import Point, Polygon, shape
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from bench.query import CENTRES, prepare_database
from layers.accounts.roles import Role
from layers.accounts.scope import Actor
from layers.crypto.keys import bind_key_ring, load_key_ring
from layers.features.models import Unit
from layers.features.selection import Picked, Selection, pick
from layers.features.spatial import region_of
from layers.perimeters.contents import RingContent, perimeter_contents
from layers.perimeters.models import Perimeter
from layers.perimeters.rings import RingDraft, RingKind, RingLimits
from layers.perimeters.service import PerimeterDraft, create_perimeter
from layers.settings import CryptoSettings

PLANNER = Actor(user_id=None, username="bench", role=Role.PLANNER)
DATABASE = "warroom_bench_perimeters"
TIANANMEN = Point(116.3912, 39.9073)
LIMITS = RingLimits(max_vertices=20_000, max_area_km2=5_000.0, max_buffer_m=50_000.0)
ZONE = ZoneInfo("Asia/Shanghai")
PAGE = 20

# The same question by hand: annuli cut with ST_Difference, each layer joined to them
# (ST_Covers for points, ST_Intersects for areas), counted per annulus (units also by
# category and risk) with the first ids, the window and record kinds as the API has them.
_ANNULI = """
WITH r AS (SELECT kind, geom FROM perimeter_rings WHERE perimeter_id = :p),
a AS (
    SELECT 0 AS ring, geom FROM r WHERE kind = 'core'
    UNION ALL SELECT 1, ST_Difference(c.geom, k.geom) FROM r c, r k
        WHERE c.kind = 'control' AND k.kind = 'core'
    UNION ALL SELECT 2, ST_Difference(o.geom, ST_Union(c.geom, k.geom)) FROM r o, r c, r k
        WHERE o.kind = 'outer' AND c.kind = 'control' AND k.kind = 'core'
)
"""
_HAND = {
    "units": "SELECT a.ring, f.category, f.risk_level, count(*), (array_agg(f.id ORDER BY f.id))"
             "[1:20] FROM units f JOIN a ON ST_Covers(a.geom, f.geom) GROUP BY 1, 2, 3",
    "rail_stations": "SELECT a.ring, count(*), (array_agg(f.id ORDER BY f.id))[1:20] "
                     "FROM rail_stations f JOIN a ON ST_Covers(a.geom, f.geom) GROUP BY 1",
    "bus_stations": "SELECT a.ring, count(*), (array_agg(f.id ORDER BY f.id))[1:20] "
                    "FROM bus_stations f JOIN a ON ST_Covers(a.geom, f.geom) GROUP BY 1",
    "construction_sites": "SELECT a.ring, count(*), (array_agg(f.id ORDER BY f.id))[1:20] "
                          "FROM construction_sites f JOIN a ON ST_Intersects(a.geom, f.geom) "
                          "WHERE (f.starts_on IS NULL OR f.starts_on <= :end_day) AND "
                          "(f.ends_on IS NULL OR f.ends_on >= :start_day) GROUP BY 1",
    "key_station_areas": "SELECT a.ring, count(*), (array_agg(f.id ORDER BY f.id))[1:20] FROM "
                         "key_station_areas f JOIN a ON ST_Intersects(a.geom, f.geom) GROUP BY 1",
    "incidents": "SELECT a.ring, count(*), (array_agg(f.id ORDER BY f.id))[1:20] "
                 "FROM incidents f JOIN a ON ST_Covers(a.geom, f.geom) "
                 "WHERE f.occurred_at BETWEEN :start AND :end GROUP BY 1",
    "hazards": "SELECT a.ring, count(*), (array_agg(f.id ORDER BY f.id))[1:20] "
               "FROM records f JOIN a ON ST_Covers(a.geom, f.geom) "
               "WHERE f.kind = 'hazard' AND f.state <> 'verified' GROUP BY 1",
    "activities": "SELECT a.ring, count(*), (array_agg(f.id ORDER BY f.id))[1:20] "
                  "FROM records f JOIN a ON ST_Covers(a.geom, f.geom) "
                  "WHERE f.kind = 'activity' AND f.state NOT IN ('rejected', 'cancelled') "
                  "AND f.starts_at <= :end AND (f.ends_at IS NULL OR f.ends_at >= :start) "
                  "GROUP BY 1",
}  # fmt: skip
_HAND_LASSO = """
SELECT count(*), (array_agg(id ORDER BY id))[1:5000] FROM units
WHERE ST_Intersects(geom, ST_GeomFromText(:wkt, 4326))
"""


@dataclass(frozen=True)
class Timing:
    """One run: wall time, and the CPU time of the client and its database backend."""

    wall_ms: float
    cpu_ms: float


def _backend_cpu_ns(pid: int) -> int:
    """Return the CPU time (ns) a local PostgreSQL backend has used (/proc/PID/schedstat)."""
    with open(f"/proc/{pid}/schedstat") as stat:
        return int(stat.read().split()[0])


def _timed(session: Session, run: Callable[[], object]) -> Timing:
    # CPU time as well as wall time: on a machine shared with others' work the wall
    # clock measures the queue for the two cores as much as the query
    pid = session.connection().connection.dbapi_connection.info.backend_pid  # type: ignore[union-attr]
    cpu, backend, started = time.process_time(), _backend_cpu_ns(pid), time.perf_counter()
    run()
    wall = time.perf_counter() - started
    used = time.process_time() - cpu + (_backend_cpu_ns(pid) - backend) / 1e9
    return Timing(wall * 1000, used * 1000)


def _pair(sessions: sessionmaker[Session], ours: Callable[[Session, int], object],
          hand: Callable[[Session, int], object], repeats: int) -> list[float]:  # fmt: skip
    """Return p50 wall and CPU ms of ``ours`` and of ``hand``, taking turns, fresh sessions."""
    runs: dict[str, list[Timing]] = {"ours": [], "hand": []}
    for i in range(repeats):
        for name, run in (("ours", ours), ("hand", hand)):
            with sessions() as session:
                runs[name].append(_timed(session, lambda: run(session, i)))  # noqa: B023
                session.rollback()
    return [statistics.median(getattr(t, part) for t in runs[name])
            for name in ("ours", "hand") for part in ("wall_ms", "cpu_ms")]  # fmt: skip


def _district(sessions: sessionmaker[Session]) -> Polygon:
    with sessions() as session:
        outline = session.scalar(text(
            "SELECT ST_AsGeoJSON(ST_SimplifyPreserveTopology(geom, 0.0002)) FROM districts "
            "WHERE ST_Covers(geom, ST_SetSRID(ST_Point(:x, :y), 4326))"
        ), {"x": TIANANMEN.x, "y": TIANANMEN.y})  # fmt: skip
    geom = shape(json.loads(outline))
    return max(getattr(geom, "geoms", [geom]), key=lambda p: p.area)


def _perimeter(sessions: sessionmaker[Session], now: datetime) -> int:
    """Create the benchmark's perimeter (once per run) and return its id."""
    rings = [
        RingDraft(RingKind.CORE, TIANANMEN, 800.0),
        RingDraft(RingKind.CONTROL, TIANANMEN, 3000.0),
        RingDraft(RingKind.OUTER, _district(sessions)),
    ]
    draft = PerimeterDraft(name="国庆安保", starts_at=now - timedelta(days=15),
                           ends_at=now + timedelta(days=15), rings=rings)  # fmt: skip
    with sessions() as session:
        perimeter = create_perimeter(session=session, draft=draft, actor=PLANNER, limits=LIMITS)
        session.commit()
        return perimeter.id


def _lasso(rng: random.Random) -> Polygon:
    """Return a freehand-like loop of 24 points, 1-1.6 km from one of the dense centres."""
    lon, lat = rng.choice(CENTRES)
    points = []
    for k in range(24):
        reach = rng.uniform(1000.0, 1600.0)
        angle = 2 * math.pi * k / 24
        east, north = reach * math.cos(angle) / 85_000, reach * math.sin(angle) / 111_000
        points.append((lon + east, lat + north))
    return Polygon(points)


def main() -> None:
    """Load, then print the figures and ratios."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--units", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--reload", action="store_true", help="load the demo city anew")
    args = parser.parse_args()
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    url = prepare_database(args.units, 42, DATABASE, reload=args.reload)
    engine = create_engine(url, pool_size=4)
    # units' contacts are sealed: reading them (masked) takes the key ring
    sessions = bind_key_ring(sessionmaker(engine), load_key_ring(CryptoSettings()))
    with sessions() as session:
        now = session.scalar(text("SELECT max(occurred_at) FROM incidents")) or datetime.now(UTC)
    perimeter_id = _perimeter(sessions, now)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE perimeters, perimeter_rings, perimeter_cells"))
        area = conn.scalar(
            text(
                "SELECT area_m2 / 1e6 FROM perimeter_rings WHERE "
                "perimeter_id = :p AND kind = 'outer'"
            ),
            {"p": perimeter_id},
        )
    start, end = now - timedelta(days=15), now + timedelta(days=15)
    window = {"start": start, "end": end, "start_day": start.astimezone(ZONE).date(),
              "end_day": end.astimezone(ZONE).date()}  # fmt: skip

    def contents(session: Session, i: int) -> tuple[Perimeter, list[RingContent]]:
        return perimeter_contents(session=session, perimeter_id=perimeter_id, actor=PLANNER,
                                  page_size=PAGE, zone=ZONE)  # fmt: skip

    def hand_contents(session: Session, i: int) -> object:
        return [session.execute(text(_ANNULI + sql), {"p": perimeter_id, **window}).all()
                for sql in _HAND.values()]  # fmt: skip

    with sessions() as session:
        _, rings = contents(session, 0)
        for ring in rings:
            print(ring.kind.value, f"{ring.area_m2 / 1e6:.1f} km²",
                  {layer: c.count for layer, c in ring.layers.items()})  # fmt: skip
    rng = random.Random(7)
    lassos = [_lasso(rng) for _ in range(args.repeats)]

    def lasso(session: Session, i: int) -> list[Picked]:
        selection = Selection(layers=("units",), region=region_of(lassos[i], max_vertices=100))
        return pick(session=session, actor=PLANNER, selection=selection, limit=5000)

    def hand_lasso(session: Session, i: int) -> object:
        return session.execute(text(_HAND_LASSO), {"wkt": lassos[i].wkt}).one()

    with sessions() as session:
        found = [lasso(session, i)[0].count for i in range(len(lassos))]
    print(f"lasso: {statistics.median(found):.0f} units p50 ({min(found)}-{max(found)})")
    rows = [
        (f"contents of a {area:,.0f} km² outer ring", *_pair(sessions, contents, hand_contents,
                                                             args.repeats)),
        ("lasso selection of units (ids + count)", *_pair(sessions, lasso, hand_lasso,
                                                          args.repeats)),
    ]  # fmt: skip
    heads = ("ours p50 wall / CPU", "SQL p50 wall / CPU", "CPU ratio")
    print(f"{'question':44} {heads[0]:>20} {heads[1]:>20} {heads[2]:>9}")
    for name, ours, ours_cpu, hand, hand_cpu in rows:
        print(f"{name:44} {ours:9.1f} / {ours_cpu:6.1f} ms {hand:9.1f} / {hand_cpu:6.1f} ms "
              f"{ours_cpu / hand_cpu:8.3f}x")  # fmt: skip
    with sessions() as session:
        print("units:", session.scalar(select(func.count()).select_from(Unit)))
    print("load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
