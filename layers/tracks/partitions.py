"""The day partitions of ``vehicle_positions``: made when a batch first needs one, dropped by age.

A partition holds one UTC day and is named ``vehicle_positions_YYYYMMDD`` (SQL functions
of migration 0025). Making one takes a lock on the whole table, so it is done on a
connection of its own and committed at once, before the batch takes any lock: a batch
never holds its vehicles while it waits for the table, nor the table while it waits for
vehicles.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

logger = logging.getLogger(__name__)

_MISSING = """
SELECT day FROM unnest(CAST(:days AS date[])) AS day
WHERE to_regclass(vehicle_positions_partition_name(day)) IS NULL
"""
_PARTITIONS = """
SELECT c.relname FROM pg_inherits AS i
JOIN pg_class AS c ON c.oid = i.inhrelid
WHERE i.inhparent = 'vehicle_positions'::regclass
ORDER BY c.relname
"""
_PREFIX = "vehicle_positions_"


def utc_day(instant: datetime) -> date:
    """Return the UTC day an instant falls on: the partition that holds it."""
    return instant.astimezone(UTC).date()


def ensure_partitions(session: Session, days: Iterable[date]) -> None:
    """Make the partitions of ``days`` that do not exist yet, committed on their own."""
    missing = list(session.scalars(text(_MISSING), {"days": sorted(set(days))}))
    if not missing:
        return
    with session.get_bind().engine.connect() as conn:
        for day in missing:
            conn.execute(text("SELECT vehicle_positions_partition(:day)"), {"day": day})
            conn.commit()
            logger.info("made the vehicle_positions partition of %s", day)


def partition_days(session: Session) -> list[date]:
    """Return the days that have a partition, oldest first."""
    names = session.scalars(text(_PARTITIONS))
    return [datetime.strptime(n.removeprefix(_PREFIX), "%Y%m%d").date() for n in names]


def prune_partitions(session: Session, *, retention_days: int, now: datetime) -> list[date]:
    """Drop the partitions whose whole day lies before the retention; return their days.

    Positions that old are refused on ingest, so no batch can need a dropped partition.
    """
    first_kept = utc_day(now - timedelta(days=retention_days))
    dropped = [day for day in partition_days(session) if day < first_kept]
    for day in dropped:
        name = session.scalar(text("SELECT vehicle_positions_partition_name(:day)"), {"day": day})
        session.execute(text(f'DROP TABLE "{name}"'))  # a name our own function made
    return dropped
