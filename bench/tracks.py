"""Benchmark track ingestion with geofence checks: positions a second, ours against hand SQL.

    flock /tmp/warroom-bench.lock .venv/bin/python -m bench.tracks --vehicles 2000 --seconds 60

Uses its own database ``warroom_bench_tracks`` on 127.0.0.1:5432 (a demo city of
``--units`` units, loaded if empty) with ``--vehicles`` police cars of its own, started
within 5 km of three dense places, where three perimeters are in force (a 1 km core, a
control ring 1 km around it, an outer ring 1.5 km around that: most cars are inside a
ring, and many cross one). Every car reports once a second for ``--seconds`` simulated
seconds, driving a random walk at 30-60 km/h. ``--threads`` feeds each post the positions
of their own cars for one second as one batch, in turns with the baseline, which takes
the next ``--seconds`` of the same drive: the rows written by hand — ``INSERT ... ON
CONFLICT DO NOTHING`` through psycopg2's ``execute_values`` and a ``ST_Covers`` join of
the new rows with the rings in force, nothing else. Ours also moves each vehicle (H3,
jurisdiction, version, an event each), keeps hysteresis states and alerts, and audits
the batch. ``--http`` adds the same through ``POST /api/tracks`` (uvicorn, 2 workers).
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import numpy as np
from psycopg2.extras import execute_values
from shapely.geometry import Point
from sqlalchemy import Engine, create_engine, event, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from bench.query import (
    CENTRES,
    app_command,
    ensure_user,
    free_port,
    logged_in,
    prepare_database,
    serve,
)
from layers.accounts.roles import Role
from layers.accounts.scope import Actor
from layers.crypto.keys import bind_key_ring, load_key_ring
from layers.features.jurisdiction import assign_jurisdiction
from layers.features.models import Vehicle
from layers.perimeters.models import Perimeter
from layers.perimeters.rings import RingDraft, RingKind, RingLimits
from layers.perimeters.service import PerimeterDraft, create_perimeter
from layers.settings import CryptoSettings, GeofenceSettings, TrackSettings
from layers.tracks.batch import Position
from layers.tracks.service import ingest_positions

DATABASE = "warroom_bench_tracks"
FEED = Actor(user_id=None, username="bench-feed", role=Role.COMMANDER)
PLATE = "BENCH"  # plates of the benchmark's own cars: BENCH00001...
LIMITS = RingLimits(max_vertices=20_000, max_area_km2=5_000.0, max_buffer_m=50_000.0)
M_PER_DEG = 111_320.0
# Connections as the app makes them (``layers.database.make_engine``): without JIT, which
# compiled the vehicles' move for ~0.7 s a batch when it ran with the server's default.
_APP_OPTIONS = {"options": "-c jit=off"}

_CARS = """
INSERT INTO vehicles (name, plate, kind, geom)
SELECT '巡逻车' || n, 'BENCH' || lpad(n::text, 5, '0'), 'police',
       ST_SetSRID(ST_MakePoint(x, y), 4326)
FROM unnest(CAST(:x AS float8[]), CAST(:y AS float8[])) WITH ORDINALITY AS u(x, y, n)
"""
_HAND = """
WITH stored AS (
    INSERT INTO vehicle_positions (vehicle_id, at, lon, lat, speed_kmh, heading_deg)
    VALUES %s ON CONFLICT DO NOTHING RETURNING vehicle_id, at, lon, lat
)
SELECT s.vehicle_id, s.at, r.perimeter_id, r.kind FROM stored AS s
JOIN perimeter_rings AS r ON ST_Covers(r.geom, ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326))
JOIN perimeters AS p ON p.id = r.perimeter_id AND s.at BETWEEN p.starts_at AND p.ends_at
"""


def _sessions(engine: Engine) -> sessionmaker[Session]:
    """Return sessions of ``engine`` carrying the key ring (audit records are sealed)."""
    return bind_key_ring(sessionmaker(engine), load_key_ring(CryptoSettings()))


def _cars(engine: Engine, count: int, rng: np.random.Generator) -> tuple[list[int], np.ndarray]:
    """Return the ids and starting places of the benchmark's cars (made once)."""
    with _sessions(engine)() as session, session.begin():
        have = session.scalar(select(func.count()).where(Vehicle.plate.like(f"{PLATE}%")))
        if (have or 0) < count:
            centre = np.array(CENTRES[:3])[rng.integers(0, 3, count)]
            reach = 5000.0 * np.sqrt(rng.random(count)) / M_PER_DEG
            angle = rng.random(count) * 2 * np.pi
            lons = centre[:, 0] + reach * np.cos(angle) / np.cos(np.radians(40.0))
            lats = centre[:, 1] + reach * np.sin(angle)
            session.execute(text("DELETE FROM vehicles WHERE plate LIKE :p"), {"p": f"{PLATE}%"})
            session.execute(text(_CARS), {"x": lons.tolist(), "y": lats.tolist()})
            assign_jurisdiction(session, "vehicles")
        rows = session.execute(
            select(Vehicle.id, func.ST_X(Vehicle.geom), func.ST_Y(Vehicle.geom))
            .where(Vehicle.plate.like(f"{PLATE}%")).order_by(Vehicle.id).limit(count)
        ).all()  # fmt: skip
    return [r[0] for r in rows], np.array([(r[1], r[2]) for r in rows])


def _perimeters(engine: Engine, now: datetime) -> None:
    """Draw the three perimeters in force now, unless drawn already."""
    with _sessions(engine)() as session, session.begin():
        drawn = session.scalar(select(func.count()).where(
            Perimeter.name.like("bench-tracks%"), Perimeter.ends_at > now + timedelta(hours=1)
        ))  # fmt: skip
        if drawn:
            return
        for index, (lon, lat) in enumerate(CENTRES[:3]):
            rings = [RingDraft(RingKind.CORE, Point(lon, lat), 1000.0),
                     RingDraft(RingKind.CONTROL, None, 1000.0),
                     RingDraft(RingKind.OUTER, None, 2500.0)]  # fmt: skip
            create_perimeter(session=session, actor=FEED, limits=LIMITS, draft=PerimeterDraft(
                name=f"bench-tracks-{index}", starts_at=now - timedelta(days=1),
                ends_at=now + timedelta(days=30), rings=rings))  # fmt: skip


def _drive(places: np.ndarray, seconds: int, rng: np.random.Generator) -> np.ndarray:
    """Return (seconds, cars, [lon, lat, speed_kmh, heading_deg]) of a random walk at 1 Hz."""
    out = np.empty((seconds, len(places), 4))
    heading = rng.random(len(places)) * 360.0
    speed = 30.0 + rng.random(len(places)) * 30.0
    lon, lat = places[:, 0].copy(), places[:, 1].copy()
    for second in range(seconds):
        heading = (heading + rng.normal(0.0, 15.0, len(places))) % 360.0
        step = speed / 3.6 / M_PER_DEG
        lon += step * np.sin(np.radians(heading)) / np.cos(np.radians(lat))
        lat += step * np.cos(np.radians(heading))
        out[second] = np.column_stack([lon, lat, speed, heading])
    return out


def _batches(ids: Sequence[int], walk: np.ndarray, t0: datetime, threads: int,
             seconds: int) -> list[list[list[Position]]]:  # fmt: skip
    """Return per thread its batches: its cars' positions of ``seconds`` seconds each."""
    groups = np.array_split(np.arange(len(ids)), threads)
    return [[[Position(ids[c], t0 + timedelta(seconds=s), *map(float, walk[s, c]))
              for s in range(first, min(first + seconds, walk.shape[0])) for c in group]
             for first in range(0, walk.shape[0], seconds)] for group in groups]  # fmt: skip


class StatementClock:
    """Sums the time of the statements an engine runs, by what they write."""

    KINDS = (("vehicle_positions", "positions"), ("UPDATE vehicles", "vehicles"),
             ("INSERT INTO events", "events"), ("geofence", "geofence"),
             ("perimeter", "geofence"), ("audit_log", "audit"), ("advisory", "audit"))  # fmt: skip

    def __init__(self, engine: Engine) -> None:
        self.ms: dict[str, float] = {}
        self._lock = threading.Lock()
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, *_: object) -> None:
        conn.info["started"] = time.perf_counter()

    def _after(self, conn: Any, cursor: object, statement: str, *_: object) -> None:
        kind = next((k for word, k in self.KINDS if word in statement), "other")
        spent = (time.perf_counter() - conn.info["started"]) * 1000
        with self._lock:
            self.ms[kind] = self.ms.get(kind, 0.0) + spent


def _run(threads: list[list[Any]], post: Callable[[Any], object]) -> tuple[float, list[float]]:
    """Post every thread's batches in order, threads at once; return seconds and batch ms."""
    latencies: list[float] = []

    def feed(batches: list[Any]) -> None:
        for batch in batches:
            started = time.perf_counter()
            post(batch)
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    with ThreadPoolExecutor(len(threads)) as pool:
        list(pool.map(feed, threads))
    return time.perf_counter() - started, latencies


def _ours(engine: Engine) -> Callable[[list[Position]], object]:
    tracks, fence, sessions = TrackSettings(), GeofenceSettings(), _sessions(engine)

    def post(batch: list[Position]) -> object:
        with sessions() as session, session.begin():
            return ingest_positions(session=session, positions=batch, actor=FEED, tracks=tracks,
                                    geofence=fence)  # fmt: skip

    return post


def _hand(engine: Engine) -> Callable[[list[Position]], object]:
    def post(batch: list[Position]) -> object:
        conn = engine.raw_connection()
        try:
            rows = [(p.vehicle_id, p.at, p.lon, p.lat, p.speed_kmh, p.heading_deg) for p in batch]
            found = execute_values(conn.cursor(), _HAND, rows, page_size=len(rows), fetch=True)
            conn.commit()
            return found
        finally:
            conn.close()

    return post


def _http(client: httpx.Client) -> Callable[[list[Position]], object]:
    def post(batch: list[Position]) -> object:
        body = {"positions": [{"vehicle_id": p.vehicle_id, "at": p.at.isoformat(), "lon": p.lon,
                               "lat": p.lat, "speed_kmh": p.speed_kmh,
                               "heading_deg": p.heading_deg} for p in batch]}  # fmt: skip
        response = client.post("/api/tracks", json=body)
        assert response.status_code == 200, response.text
        return response.json()

    return post


def _line(name: str, positions: int, seconds: float, latencies: list[float]) -> str:
    p95 = statistics.quantiles(latencies, n=20)[-1]
    return (f"{name:34} {positions / seconds:10,.0f}/s {statistics.median(latencies):8.1f}ms "
            f"{p95:8.1f}ms")  # fmt: skip


def _vacuum(engine: Engine) -> None:
    """Vacuum what ours updates: the benchmark server runs without autovacuum."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE vehicles, geofence_states"))


def main() -> None:
    """Load, then print positions a second for ours, the baseline (and HTTP), turn by turn."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--units", type=int, default=20_000)
    parser.add_argument("--vehicles", type=int, default=2_000)
    parser.add_argument("--seconds", type=int, default=60, help="simulated seconds per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-seconds", type=int, default=1, help="seconds of a batch")
    parser.add_argument("--http", action="store_true", help="also through POST /api/tracks")
    args = parser.parse_args()
    url = prepare_database(args.units, 42, DATABASE, reload=False)
    engine = create_engine(url, pool_size=args.threads + 2, connect_args=_APP_OPTIONS)
    rng = np.random.default_rng(7)
    now = datetime.now(UTC)
    ids, places = _cars(engine, args.vehicles, rng)
    _perimeters(engine, now)
    with Session(engine) as session:
        latest = session.scalar(select(func.max(Vehicle.position_at)).where(Vehicle.id.in_(ids)))
    ways = 3 if args.http else 2
    # after the cars' last positions (an earlier run's), or every position would be late
    t0 = max(
        now - timedelta(minutes=50), (latest or now - timedelta(hours=1)) + timedelta(seconds=1)
    )
    span = timedelta(seconds=args.seconds * args.rounds * ways)
    assert t0 + span < now + timedelta(seconds=30), "the cars' clocks are ahead: wait a while"
    walk = _drive(places, args.seconds * args.rounds * ways, rng)
    totals: dict[str, list[Any]] = {}
    with ExitStack() as stack:
        ours_engine = create_engine(url, pool_size=args.threads + 2, connect_args=_APP_OPTIONS)
        clock = StatementClock(ours_engine)
        posts = {"ours (ingest_positions)": _ours(ours_engine), "hand SQL baseline": _hand(engine)}
        if args.http:
            port = str(free_port())
            base = f"http://127.0.0.1:{port}"
            command = app_command(port)
            command[command.index("--workers") + 1] = "2"
            stack.enter_context(serve(command, {"WARROOM_DATABASE_URL": url}, f"{base}/api/health"))
            posts["ours over HTTP (2 workers)"] = _http(logged_in(stack, base, ensure_user(url)))
        for round_ in range(args.rounds):
            _vacuum(engine)
            for way, (name, post) in enumerate(posts.items()):
                first = (round_ * ways + way) * args.seconds
                part = walk[first : first + args.seconds]
                threads = _batches(ids, part, t0 + timedelta(seconds=first), args.threads,
                                   args.batch_seconds)  # fmt: skip
                seconds, latencies = _run(threads, post)
                total = totals.setdefault(name, [0, 0.0, []])
                total[0] += part.shape[0] * part.shape[1]
                total[1] += seconds
                total[2] += latencies
                print(_line(f"round {round_ + 1}: {name}", part.shape[0] * part.shape[1],
                            seconds, latencies))  # fmt: skip
    size = len(ids) // args.threads * args.batch_seconds
    print(f"\n{len(ids)} cars at 1 Hz, {args.threads} feeds, batches of {size}")
    print(f"{'':34} {'positions':>12} {'batch p50':>10} {'batch p95':>10}")
    for name, (positions, seconds, latencies) in totals.items():
        print(_line(name, positions, seconds, latencies))
    ours = totals["ours (ingest_positions)"][0] / 1000
    spent = ", ".join(f"{kind} {ms / ours:.0f}" for kind, ms in sorted(clock.ms.items()))
    print(f"ours, statement ms per 1,000 positions (summed over feeds): {spent}")
    with Session(engine) as session:
        alerts = session.scalar(text("SELECT count(*) FROM geofence_alerts"))
        print(f"geofence alerts raised so far: {alerts:,}")


if __name__ == "__main__":
    main()
