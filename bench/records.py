"""Benchmark records at scale: a feature's timeline, bulk task creation, statistics.

    flock /tmp/warroom-bench.lock .venv/bin/python -m bench.records --units 1000000 --rounds 6

Uses a demo city as ``bench/query.py`` makes it (in ``warroom_bench_records`` on
127.0.0.1:5432, loaded if empty), then (re)generates its records ``--rounds`` times over (about 0.85
records a unit a round: 6 rounds on 1,000,000 units is ~5,000,000 records). Each figure
is the domain function against the same question written by hand in SQL (the baseline),
taking turns in the same process on the same connection pool.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.orm import Session

from bench.query import prepare_database
from layers.accounts.roles import Role
from layers.accounts.scope import Actor
from layers.demo.records import load_demo_records
from layers.features.models import Unit
from layers.features.registry import get_layer
from layers.records.bulk import create_per_feature
from layers.records.models import Record
from layers.records.reading import feature_timeline
from layers.records.refs import FeatureRef
from layers.records.service import NewRecord
from layers.records.stats import count_records
from layers.records.tasks import TASK

UNITS = get_layer("units")
COMMANDER = Actor(user_id=None, username="bench", role=Role.COMMANDER)
DATABASE = "warroom_bench_records"

_HAND_TIMELINE = """
SELECT r.* FROM records r JOIN record_links l ON l.record_id = r.id
WHERE l.layer = 'units' AND l.feature_id = :id
ORDER BY r.created_at DESC, r.id DESC LIMIT 21
"""
_HAND_BULK = """
INSERT INTO records (kind, topic, state, title, details, geom, district_id, precinct_id)
SELECT 'task', 'internal_security', 'draft', 'bench', '{}'::jsonb, geom, district_id, precinct_id
FROM units WHERE id = ANY(:ids)
"""
_HAND_STATS = "SELECT district_id, state, count(*) FROM records GROUP BY 1, 2 ORDER BY 1, 2"


def _ms(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return (time.perf_counter() - started) * 1000


def _pair(engine: Engine, ours: Callable[[Session], object], hand: Callable[[Session], object],
          repeats: int, rollback: bool = False) -> tuple[float, float]:  # fmt: skip
    """Return the p50 ms of ``ours`` and ``hand``, taking turns, each in a fresh session."""
    times: dict[str, list[float]] = {"ours": [], "hand": []}
    for _ in range(repeats):
        for name, run in (("ours", ours), ("hand", hand)):
            with Session(engine) as session:
                times[name].append(_ms(lambda: run(session)))  # noqa: B023
                if rollback:
                    session.rollback()
    return statistics.median(times["ours"]), statistics.median(times["hand"])


def main() -> None:
    """Load, then print the figures and ratios."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--units", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--regenerate", action="store_true", help="regenerate the records")
    args = parser.parse_args()
    url = prepare_database(args.units, 42, DATABASE, reload=False)
    engine = create_engine(url, pool_size=4)
    with Session(engine) as session:
        records = session.scalar(select(func.count()).select_from(Record)) or 0
        if args.regenerate or records < args.units * args.rounds * 0.8:
            started = time.perf_counter()
            load_demo_records(session, seed=42, now=datetime.now(UTC), rounds=args.rounds)
            session.commit()
            print(f"generated records in {time.perf_counter() - started:.0f} s")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE records, record_links"))
        records = conn.scalar(text("SELECT count(*) FROM records"))
        unit_ids = list(conn.scalars(text("SELECT id FROM units ORDER BY random() LIMIT 5000")))
    print(f"{args.units} units, {records} records")
    rng = random.Random(7)

    def timeline(session: Session) -> object:
        return feature_timeline(session=session, spec=UNITS, feature_id=rng.choice(unit_ids),
                                actor=COMMANDER, limit=20)  # fmt: skip

    def hand_timeline(session: Session) -> object:
        return session.execute(text(_HAND_TIMELINE), {"id": rng.choice(unit_ids)}).all()

    new = NewRecord(title="bench", topic="internal_security", details={},
                    features=[FeatureRef("units", u) for u in unit_ids])  # fmt: skip

    def bulk(session: Session) -> object:
        return create_per_feature(session=session, kind=TASK, new=new, actor=COMMANDER)

    def hand_bulk(session: Session) -> object:
        return session.execute(text(_HAND_BULK), {"ids": unit_ids})

    def stats(session: Session) -> object:
        return count_records(session=session, actor=COMMANDER, group_by=["district", "state"],
                             zone="Asia/Shanghai")  # fmt: skip

    def hand_stats(session: Session) -> object:
        return session.execute(text(_HAND_STATS)).all()

    rows = [
        ("timeline, first page (20)", *_pair(engine, timeline, hand_timeline, args.repeats * 10)),
        ("bulk: a task for each of 5,000 units", *_pair(engine, bulk, hand_bulk, 5, rollback=True)),
        ("statistics by district and state", *_pair(engine, stats, hand_stats, args.repeats)),
    ]
    print(f"{'question':40} {'ours p50':>10} {'SQL p50':>10} {'ratio':>7}")
    for name, ours, hand in rows:
        print(f"{name:40} {ours:9.1f}ms {hand:9.1f}ms {ours / hand:7.3f}x")
    with Session(engine) as session:
        print("units:", session.scalar(select(func.count()).select_from(Unit)))


if __name__ == "__main__":
    main()
