"""Benchmark visitor counts: ingestion, occupancy of every park now, a park's day curve with a
year stored — each beside a plain unpartitioned table as the baseline.

    flock /tmp/warroom-bench.lock .venv/bin/python -m bench.tourism --points 500 --minutes 240

Uses its own database ``warroom_bench_tourism`` (a demo city of ``--units`` units: ~120
parks with three counting gates each, topped up with counters to ``--points`` points).

1. Ingestion: ``--minutes`` minutes of per-minute readings of every point (today, from
   06:00 local), in batches of ``--batch`` readings, through ``ingest_counts`` (checks,
   the points' parks, the day partition, ``ON CONFLICT DO NOTHING``, the 5-minute and
   daily rollups, alert levels, audit) against the same rows ``INSERT``ed from arrays (one
   array-text parameter a column, as ours) into a plain unpartitioned table with the same
   key and nothing else.
2. Occupancy of every park now: ``read_occupancy`` (the daily rollup, levels, the last
   30 minutes' buckets for the forecast) against summing the plain table's rows of today.
3. A park's day curve with a year stored: ``--year-days`` days of 5-minute buckets for
   every park in ``park_buckets`` (what a year of readings rolls up to), read for a day in
   the middle, against the same curve summed from a plain unpartitioned table holding
   ``--plain-days`` days of the minute readings of every point (a year would be 262 M rows;
   the figure is stated with the rows it had).
4. The forecast's error: the window of the recent rate is chosen on one demo holiday day
   (seed 101) and the error measured on three others (``--forecast-only``: this alone).
5. Disk: bytes a reading takes in the day partitions (heap and key) and a rollup row,
   extrapolated to a year of ``--points`` points each minute.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from bench.query import prepare_database
from layers.accounts.roles import Role
from layers.accounts.scope import Actor
from layers.crypto.keys import bind_key_ring, load_key_ring
from layers.database import make_sessionmaker
from layers.partitions import utc_day
from layers.settings import CryptoSettings, TourismSettings
from layers.tourism.counts import BATCH_ROWS, COUNTS, Reading, batch_columns, ingest_counts
from layers.tourism.demo import expected_flow, peak_shares
from layers.tourism.forecast import HORIZONS_MIN, FloatArray, evaluate
from layers.tourism.occupancy import read_day_curve, read_occupancy

DATABASE = "warroom_bench_tourism"
ZONE = ZoneInfo("Asia/Shanghai")
FEED = Actor(user_id=None, username="bench-counters", role=Role.TOURISM)
MINUTES_A_YEAR = 365 * 24 * 60

_TOP_UP = """
INSERT INTO tourism_points (park_id, code, name, kind, counts, geom, version)
SELECT p.id, 'BENCH-' || n, p.name || '计数器' || n, 'counter', true, ST_PointOnSurface(p.geom), 1
FROM generate_series(1, :n) AS n
JOIN LATERAL (SELECT * FROM parks ORDER BY id OFFSET (n % 100) LIMIT 1) AS p ON true
ON CONFLICT (code) DO NOTHING
"""
_PLAIN = """
CREATE TABLE IF NOT EXISTS {table} (
    point_id bigint, at timestamptz, entered integer NOT NULL, exited integer NOT NULL,
    PRIMARY KEY (point_id, at))
"""
# the same parameters as ours (``batch_columns``), stored with ON CONFLICT DO NOTHING
_PLAIN_INSERT = "INSERT INTO bench_counts_plain " + BATCH_ROWS + " ON CONFLICT DO NOTHING"
_PLAIN_NOW = """
SELECT t.park_id, sum(c.entered) - sum(c.exited) FROM bench_counts_plain AS c
JOIN tourism_points AS t ON t.id = c.point_id AND t.counts
WHERE c.at >= :since AND c.at <= :until GROUP BY t.park_id
"""
_PLAIN_CURVE = """
SELECT date_bin('5 minutes', c.at, TIMESTAMPTZ '2000-01-01Z') AS b, sum(c.entered), sum(c.exited)
FROM bench_counts_year_plain AS c
WHERE c.point_id = ANY(CAST(:points AS bigint[])) AND c.at >= :start AND c.at < :end
GROUP BY b ORDER BY b
"""
_YEAR_BUCKETS = """
INSERT INTO park_buckets (park_id, bucket, entered, exited)
SELECT p.id, b, 40 + (p.id + extract(minute FROM b))::int % 17, 39
FROM parks AS p,
     generate_series(CAST(:start AS timestamptz), CAST(:end AS timestamptz), interval '5 min') AS b
ON CONFLICT DO NOTHING
"""
_YEAR_DAYS = """
INSERT INTO park_days (park_id, day, entered, exited)
SELECT p.id, d, 12000 + p.id, 11900 FROM parks AS p,
     generate_series(CAST(:start AS date), CAST(:end AS date), interval '1 day') AS d
ON CONFLICT DO NOTHING
"""
_YEAR_PLAIN = """
INSERT INTO bench_counts_year_plain
SELECT t.id, m, 3, 3 FROM tourism_points AS t,
     generate_series(CAST(:start AS timestamptz), CAST(:end AS timestamptz), interval '1 min') AS m
WHERE t.counts ON CONFLICT DO NOTHING
"""


def _points(engine: Engine, wanted: int) -> list[int]:
    with Session(engine) as session, session.begin():
        have = session.scalar(text("SELECT count(*) FROM tourism_points WHERE counts")) or 0
        if have < wanted:
            session.execute(text(_TOP_UP), {"n": wanted - have})
        ids = session.scalars(text("SELECT id FROM tourism_points WHERE counts ORDER BY id "
                                   "LIMIT :n"), {"n": wanted})  # fmt: skip
        return list(ids)


def _readings(codes: list[str], start: datetime, minutes: int) -> list[Reading]:
    """Return a reading a minute of every point, in UTC (as the route hands them over)."""
    utc = start.astimezone(UTC)
    return [Reading(code, utc + timedelta(minutes=m), 1 + (m + i) % 5, (m + i) % 4)
            for m in range(minutes) for i, code in enumerate(codes)]  # fmt: skip


def _timed(call: Callable[[], object], runs: int) -> float:
    """Return the median wall time of ``runs`` calls, in ms."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def ingest(engine: Engine, codes: dict[str, int], start: datetime, minutes: int, batch: int
           ) -> tuple[float, float, int, int]:  # fmt: skip
    """Return readings a second for ours and the plain table, the readings sent and stored."""
    factory = bind_key_ring(make_sessionmaker(engine), load_key_ring(CryptoSettings()))
    readings = _readings(sorted(codes), start, minutes)
    settings = TourismSettings(max_batch=max(batch, 1))
    with Session(engine) as session:  # the partition exists before the clock starts
        COUNTS.ensure(session, {utc_day(r.at) for r in (readings[0], readings[-1])})
    end = start + timedelta(minutes=minutes)
    with engine.begin() as conn:
        conn.execute(text(_PLAIN.format(table="bench_counts_plain")))
        conn.execute(text("TRUNCATE bench_counts_plain"))
    # the two take turns batch by batch, so both see the same load on a shared machine
    ours = plain = 0.0
    stored = 0
    for i in range(0, len(readings), batch):
        part = readings[i : i + batch]
        started = time.perf_counter()
        with factory() as session, session.begin():
            stored += ingest_counts(session=session, readings=part, actor=FEED,
                                    settings=settings, zone=ZONE, now=end).stored  # fmt: skip
        ours += time.perf_counter() - started
        started = time.perf_counter()
        with engine.begin() as conn:
            times = sorted({r.at for r in part})
            conn.execute(text(_PLAIN_INSERT), batch_columns(part, codes, times))
        plain += time.perf_counter() - started
    return len(readings) / ours, len(readings) / plain, len(readings), stored


def year(engine: Engine, days: int, plain_days: int, today: date) -> None:
    """Store ``days`` days of park buckets and ``plain_days`` of plain minute readings."""
    first = datetime.combine(today - timedelta(days=days), dtime.min, ZONE)
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL statement_timeout = 0"))
        stored = conn.scalar(text("SELECT EXISTS (SELECT FROM park_buckets WHERE bucket = :b)"),
                             {"b": first})  # fmt: skip
        if not stored:  # an earlier run's year is kept
            conn.execute(text(_YEAR_BUCKETS), {"start": first, "end": first + timedelta(days)})
            conn.execute(text(_YEAR_DAYS), {"start": first.date(), "end": today})
        conn.execute(text(_PLAIN.format(table="bench_counts_year_plain")))
        have = conn.scalar(text("SELECT count(*) FROM bench_counts_year_plain")) or 0
        if not have:
            middle = datetime.combine(today - timedelta(days=days // 2), dtime.min, ZONE)
            half = timedelta(days=plain_days / 2)
            conn.execute(text(_YEAR_PLAIN), {"start": middle - half, "end": middle + half})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE park_buckets, park_days, bench_counts_year_plain"))


def occupancy(engine: Engine, now: datetime, runs: int, stored: str) -> None:
    """Print the median time of every park's occupancy at ``now``, ours beside the plain sum
    of that day's readings."""
    with Session(engine) as session:
        ours = _timed(lambda: read_occupancy(session=session, actor=FEED,
                                             settings=TourismSettings(), zone=ZONE, now=now),
                      runs)  # fmt: skip
    with engine.connect() as conn:
        since = datetime.combine(now.astimezone(ZONE).date(), dtime.min, ZONE)
        plain = _timed(lambda: conn.execute(text(_PLAIN_NOW), {"since": since, "until": now})
                       .all(), runs)  # fmt: skip
    print(f"occupancy of every park now{stored}: ours {ours:.1f} ms, plain sum {plain:.1f} ms")


def _curves(seed: int, parks: int = 120, capacity: int = 10_000) -> list[FloatArray]:
    """Return a demo holiday day of ``parks`` parks: visitors inside every 5 min, 06-22 h."""
    rng = np.random.default_rng(seed)
    found = []
    for share in peak_shares(parks, rng):
        arrive, leave = expected_flow(float(share), capacity, rng)
        inside = np.cumsum(rng.poisson(arrive) - rng.poisson(leave))
        found.append(np.maximum(inside, 0)[4::5][6 * 12 : 22 * 12].astype(np.float64))
    return found


def forecast_errors() -> None:
    """Choose the forecast's window on a tuning day; print its error on held-out days."""
    tuning = _curves(101)
    best = min((15.0, 30.0, 60.0), key=lambda w: evaluate(tuning, 5, 30, w)[0])
    held_out = [c for seed in (202, 303, 404) for c in _curves(seed)]
    for horizon in HORIZONS_MIN:
        mae, share = evaluate(held_out, 5, horizon, best)
        print(f"forecast {horizon} min ahead (window {best:g} min, chosen on the tuning day): "
              f"MAE {mae:.0f} visitors in parks of 10,000 = {share:.1%} of the day's peak, "
              f"over {len(held_out)} held-out park-days")  # fmt: skip


def _bytes(engine: Engine, query: str) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(text(query)) or 0)


def main() -> None:
    """Load, then print ingestion rates, read times and disk figures, ours beside plain."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--units", type=int, default=20_000)
    parser.add_argument("--points", type=int, default=500)
    parser.add_argument("--minutes", type=int, default=240)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--year-days", type=int, default=365)
    parser.add_argument("--plain-days", type=int, default=10)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--forecast-only", action="store_true", help="the forecast's error alone")
    parser.add_argument("--no-year", action="store_true", help="skip the year's day curve")
    args = parser.parse_args()
    forecast_errors()
    if args.forecast_only:
        return
    url = prepare_database(args.units, 42, DATABASE, reload=False)
    engine = create_engine(url)
    ids = _points(engine, args.points)
    with engine.connect() as conn:
        found = conn.execute(text("SELECT code, id FROM tourism_points WHERE id = ANY(:ids)"),
                             {"ids": ids})  # fmt: skip
        codes: dict[str, int] = {code: pid for code, pid in found}
    now = datetime.now(UTC)
    today = now.astimezone(ZONE).date()
    # new readings, never resent ones: the local day before the oldest one stored (today if none)
    with engine.connect() as conn:
        oldest = conn.scalar(text("SELECT min(at) FROM visitor_counts"))
    first = oldest.astimezone(ZONE).date() - timedelta(days=1) if oldest else today
    start = datetime.combine(min(first, today), dtime(6), ZONE)
    ours, plain, sent, stored = ingest(engine, codes, start, args.minutes, args.batch)
    print(f"ingest {sent:,} readings ({len(codes)} points x {args.minutes} min from "
          f"{start:%Y-%m-%d %H:%M}, {stored:,} of them new), batches of {args.batch:,}: "
          f"ours {ours:,.0f}/s, plain table {plain:,.0f}/s")  # fmt: skip
    end = start + timedelta(minutes=args.minutes)  # "now" for the stretch just sent
    occupancy(engine, end, args.runs, "")
    if args.no_year:
        return
    year(engine, args.year_days, args.plain_days, today)
    occupancy(engine, end, args.runs, f" with {args.year_days} days of rollups stored")
    day = today - timedelta(days=args.year_days // 2)
    with engine.connect() as conn:
        park, gates = conn.execute(text(
            "SELECT park_id, array_agg(id) FROM tourism_points WHERE counts GROUP BY park_id "
            "ORDER BY park_id LIMIT 1")).one()  # fmt: skip
        rows = conn.scalar(text("SELECT count(*) FROM bench_counts_year_plain"))
        buckets = conn.scalar(text("SELECT count(*) FROM park_buckets"))
        start_, end_ = (datetime.combine(d, dtime.min, ZONE) for d in (day, day + timedelta(1)))
        plain_curve = _timed(lambda: conn.execute(text(_PLAIN_CURVE), {
            "points": gates, "start": start_, "end": end_}).all(), args.runs)  # fmt: skip
    with Session(engine) as session:
        curve = _timed(lambda: read_day_curve(session=session, park_id=park, actor=FEED, day=day,
                                              zone=ZONE, now=now), args.runs)  # fmt: skip
    print(f"a park's day curve: ours {curve:.1f} ms over {buckets:,} buckets; plain sum "
          f"{plain_curve:.1f} ms over {rows:,} minute readings")  # fmt: skip
    count_bytes = _bytes(engine, "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_inherits i "
                                 "JOIN pg_class c ON c.oid = i.inhrelid "
                                 "WHERE i.inhparent = 'visitor_counts'::regclass")  # fmt: skip
    count_rows = _bytes(engine, "SELECT count(*) FROM visitor_counts")
    bucket_bytes = _bytes(engine, "SELECT pg_total_relation_size('park_buckets')")
    per_row, per_bucket = count_bytes / max(count_rows, 1), bucket_bytes / max(buckets or 1, 1)
    year_rows = args.points * MINUTES_A_YEAR
    gib = per_row * year_rows / 2**30
    print(f"disk: {per_row:.0f} B a reading (heap + key) -> {year_rows / 1e6:.0f} M readings a "
          f"year = {gib:.1f} GiB; rollup {per_bucket:.0f} B a bucket")  # fmt: skip


if __name__ == "__main__":
    main()
