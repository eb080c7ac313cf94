"""Benchmark reading a training video by ranges: a slice of a stored value against the whole.

    flock /tmp/warroom-bench.lock .venv/bin/python -m bench.training --mib 64 --rounds 9

Stores one video of ``--mib`` MiB in ``warroom_bench_training`` (on 127.0.0.1:5432, migrated
if needed) as the library does, then times, taking turns: a 1 MiB range at the start and
near the end read as ``layers.training.resources.slices`` reads it (a ``substring`` of the
out-of-line, uncompressed value), the whole file read that way a slice at a time, and the
baseline: the whole value selected at once (what a range would cost without slicing).
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import time
from collections.abc import Callable

from sqlalchemy import create_engine, delete, select
from sqlalchemy.orm import Session, sessionmaker

from layers.database import ensure_database
from layers.migrate import upgrade
from layers.training.models import TrainingResource, TrainingResourceContent
from layers.training.resources import slices

SERVER = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
DATABASE = "warroom_bench_training"
MIB = 1024**2


def _store(sessions: sessionmaker[Session], size: int) -> int:
    """Store one resource of ``size`` bytes (replacing the benchmark's earlier one)."""
    data = bytes(i % 251 for i in range(MIB)) * (size // MIB)
    with sessions() as session, session.begin():
        session.execute(delete(TrainingResource).where(TrainingResource.title == "bench"))
        digest = hashlib.new("sm3", data).hexdigest()
        resource = TrainingResource(title="bench", kind="video", name="bench.mp4",
                                    media_type="video/mp4", size_bytes=len(data), sm3=digest,
                                    creator_name="bench")  # fmt: skip
        session.add(resource)
        session.flush()
        session.add(TrainingResourceContent(resource_id=resource.id, content=data))
        return resource.id


def _p50_ms(run: Callable[[], int], rounds: int) -> tuple[float, int]:
    times, read = [], 0
    for _ in range(rounds):
        started = time.perf_counter()
        read = run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), read


def main() -> None:
    """Print the p50 of each way of reading, in milliseconds."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--server", default=SERVER)
    args = parser.parse_args()
    url = ensure_database(args.server, DATABASE)
    upgrade(url)
    engine = create_engine(url)
    sessions = sessionmaker(engine)
    resource_id = _store(sessions, args.mib * MIB)
    size = args.mib * MIB

    def ranged(start: int) -> Callable[[], int]:
        return lambda: sum(
            len(b) for b in slices(sessions, resource_id, start, start + MIB - 1, MIB)
        )

    def whole_by_slices() -> int:
        return sum(len(b) for b in slices(sessions, resource_id, 0, size - 1, MIB))

    def whole_value() -> int:  # the baseline: a range without slicing reads all of it
        with sessions() as session:
            content = session.scalar(select(TrainingResourceContent.content).where(
                TrainingResourceContent.resource_id == resource_id))  # fmt: skip
        return len((content or b"")[:MIB])

    ways = (("1 MiB range at the start", ranged(0)),
            ("1 MiB range near the end", ranged(size - 2 * MIB)),
            (f"whole {args.mib} MiB, 1 MiB slices", whole_by_slices),
            (f"baseline: whole {args.mib} MiB value for 1 MiB", whole_value))  # fmt: skip
    for name, run in ways:
        p50, read = _p50_ms(run, args.rounds)
        print(f"{name:45} p50 {p50:9.1f} ms  ({read:,} bytes)")
    engine.dispose()


if __name__ == "__main__":
    main()
