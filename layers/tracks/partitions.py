"""The day partitions of ``vehicle_positions``: made when a batch first needs one, dropped by age.

A partition holds one UTC day and is named ``vehicle_positions_YYYYMMDD`` (made by the SQL
function of migration 0025); ``layers.partitions`` says how they are made and pruned.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy.orm import Session

from layers.partitions import DayPartitions, utc_day

POSITIONS = DayPartitions("vehicle_positions", "SELECT vehicle_positions_partition(:day)")

__all__ = ["POSITIONS", "ensure_partitions", "partition_days", "prune_partitions", "utc_day"]


def ensure_partitions(session: Session, days: Iterable[date]) -> None:
    """Make the partitions of ``days`` that do not exist yet, committed on their own."""
    POSITIONS.ensure(session, days)


def partition_days(session: Session) -> list[date]:
    """Return the days that have a partition, oldest first."""
    return POSITIONS.days(session)


def prune_partitions(session: Session, *, retention_days: int, now: datetime) -> list[date]:
    """Drop the partitions whose whole day lies before the retention; return their days."""
    return POSITIONS.prune(session, retention_days=retention_days, now=now)
