"""Tables partitioned by UTC day: partitions made when a write first needs one, dropped by age.

A partition holds one UTC day of ``at`` and is named ``<table>_YYYYMMDD``. Making one
takes a lock on the whole table, so it is done on a connection of its own and committed
at once, before the writer takes any lock of its own: a writer never holds its rows while
it waits for the table, nor the table while it waits for rows. Vehicle positions
(``layers.tracks``) and visitor counts (``layers.tourism``) are kept this way.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

logger = logging.getLogger(__name__)

_MISSING = """
SELECT name FROM unnest(CAST(:names AS text[])) AS name WHERE to_regclass(name) IS NULL
"""
_PARTITIONS = """
SELECT c.relname FROM pg_inherits AS i
JOIN pg_class AS c ON c.oid = i.inhrelid
WHERE i.inhparent = CAST(:table AS regclass)
ORDER BY c.relname
"""


def utc_day(instant: datetime) -> date:
    """Return the UTC day an instant falls on: the partition that holds it."""
    return instant.astimezone(UTC).date()


@dataclass(frozen=True)
class DayPartitions:
    """The day partitions of ``table``; ``make`` is the SQL that makes the one of ``:day``.

    ``make`` is a function of a migration that takes an advisory lock, so two writers
    racing for the same day make it once.
    """

    table: str
    make: str

    def name(self, day: date) -> str:
        """Return the name of the partition of ``day``."""
        return f"{self.table}_{day:%Y%m%d}"

    def ensure(self, session: Session, days: Iterable[date]) -> None:
        """Make the partitions of ``days`` that do not exist yet, committed on their own."""
        wanted = {self.name(day): day for day in set(days)}
        missing = list(session.scalars(text(_MISSING), {"names": sorted(wanted)}))
        if not missing:
            return
        with session.get_bind().engine.connect() as conn:
            for name in missing:
                conn.execute(text(self.make), {"day": wanted[name]})
                conn.commit()
                logger.info("made the partition %s", name)

    def days(self, session: Session) -> list[date]:
        """Return the days that have a partition, oldest first."""
        names = session.scalars(text(_PARTITIONS), {"table": self.table})
        prefix = f"{self.table}_"
        return [datetime.strptime(n.removeprefix(prefix), "%Y%m%d").date() for n in names]

    def prune(self, session: Session, *, retention_days: int, now: datetime) -> list[date]:
        """Drop the partitions whose whole day lies before the retention; return their days.

        Rows that old are refused on ingest, so no writer can need a dropped partition.
        """
        first_kept = utc_day(now - timedelta(days=retention_days))
        dropped = [day for day in self.days(session) if day < first_kept]
        for day in dropped:
            session.execute(text(f'DROP TABLE "{self.name(day)}"'))  # a name made by name()
        return dropped
