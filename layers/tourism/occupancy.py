"""Occupancy of parks now and over a day, from the rollups the count door keeps.

Occupancy is in minus out since the daily reset (local midnight). It is never shown
below zero: where exits exceed entries (a counter missed people coming in, or counted
twice going out) the shortfall is shown as ``deficit`` beside a zero, not hidden.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, aliased

from layers.accounts.roles import Permission
from layers.accounts.scope import Actor
from layers.features.models import Park
from layers.settings import TourismSettings
from layers.tourism.counts import BUCKET
from layers.tourism.forecast import HORIZONS_MIN, WINDOW_MIN, forecast
from layers.tourism.models import LEVELS, ParkAlertState, ParkBucket, ParkDay, ParkLevels
from layers.tourism.parks import (
    PARK_INFO,
    Levels,
    ParkInfo,
    default_levels,
    local_day,
    visible_park,
)


@dataclass(frozen=True)
class ParkOccupancy:
    """A park today: visitors in, out and inside, against its capacities, with its levels."""

    park: ParkInfo
    entered: int
    exited: int
    levels: Levels
    level: str = "normal"
    daily_level: str = "normal"
    forecast: dict[int, float] = field(default_factory=dict)  # minutes ahead -> visitors

    @property
    def visitors(self) -> int:
        """Return the visitors inside now (never below zero)."""
        return max(0, self.entered - self.exited)

    @property
    def deficit(self) -> int:
        """Return by how many exits exceed entries today (a data error when above zero)."""
        return max(0, self.exited - self.entered)

    @property
    def ratio(self) -> float | None:
        """Return visitors inside over the instantaneous capacity (None without one)."""
        return self.visitors / self.park.capacity if self.park.capacity else None

    @property
    def daily_ratio(self) -> float | None:
        """Return today's entries over the daily capacity (None without one)."""
        cap = self.park.daily_capacity
        return self.entered / cap if cap else None


def day_window(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """Return the first instant of a local day and of the next."""
    start = datetime.combine(day, time.min, zone)
    return start, datetime.combine(day + timedelta(days=1), time.min, zone)


def read_occupancy(
    *, session: Session, actor: Actor, settings: TourismSettings, zone: ZoneInfo,
    now: datetime, park_ids: list[int] | None = None,
) -> list[ParkOccupancy]:  # fmt: skip
    """Return every park the actor may see (or those of ``park_ids``) as it stands now."""
    actor.require(Permission.FEATURES_READ)
    day = local_day(now, zone)
    start, _ = day_window(day, zone)
    since = max(start, now - timedelta(minutes=WINDOW_MIN))
    # one statement: the day's rollup, the recent buckets, the levels reached and set
    recent = (
        select(func.coalesce(func.sum(ParkBucket.entered - ParkBucket.exited), 0))
        .where(ParkBucket.park_id == Park.id, ParkBucket.bucket >= since,
               ParkBucket.bucket <= now).scalar_subquery()
    )  # fmt: skip
    instant, daily = aliased(ParkAlertState), aliased(ParkAlertState)
    query = (
        select(*PARK_INFO, func.coalesce(ParkDay.entered, 0), func.coalesce(ParkDay.exited, 0),
               recent, instant.level, daily.level, ParkLevels.yellow, ParkLevels.orange,
               ParkLevels.red, ParkLevels.stop, ParkLevels.version)
        .outerjoin(ParkDay, and_(ParkDay.park_id == Park.id, ParkDay.day == day))
        .outerjoin(instant, and_(instant.park_id == Park.id, instant.basis == "instant",
                                 instant.day == day))
        .outerjoin(daily, and_(daily.park_id == Park.id, daily.basis == "daily",
                               daily.day == day))
        .outerjoin(ParkLevels, ParkLevels.park_id == Park.id)
        .where(actor.scope.clause(Park)).order_by(Park.id)
    )  # fmt: skip
    if park_ids is not None:
        query = query.where(Park.id.in_(park_ids))
    fallback = default_levels(settings)
    span = max((now - since).total_seconds() / 60, BUCKET.total_seconds() / 60)
    found = []
    for row in session.execute(query):
        entered, exited, net, at_instant, at_daily = (row[6], row[7], row[8], row[9], row[10])
        own = Levels(*row[11:16]) if row[11] is not None else fallback
        inside = max(0, int(entered) - int(exited))
        ahead = {h: max(0.0, inside + int(net) / span * h) for h in HORIZONS_MIN}
        found.append(ParkOccupancy(
            ParkInfo(*row[:6]), int(entered), int(exited), own,
            LEVELS[at_instant] if at_instant is not None else "normal",
            LEVELS[at_daily] if at_daily is not None else "normal", ahead,
        ))  # fmt: skip
    return found


@dataclass(frozen=True)
class DayCurve:
    """A park's day: 5-minute buckets with visitors inside at each bucket's end."""

    park: Park
    day: date
    buckets: list[datetime]
    entered: list[int]
    exited: list[int]
    visitors: list[int]  # inside at the bucket's end, never below zero
    short: list[bool]  # exits exceeded entries by then (a data error)
    forecast: dict[int, float | None]


def read_day_curve(
    *, session: Session, park_id: int, actor: Actor, day: date | None, zone: ZoneInfo,
    now: datetime,
) -> DayCurve:  # fmt: skip
    """Return a park's occupancy through a local day (today by default) and, for today,
    its forecast 30 and 60 minutes ahead."""
    park = visible_park(session, park_id, actor)
    today = local_day(now, zone)
    day = day or today
    start, end = day_window(day, zone)
    rows = session.execute(
        select(ParkBucket.bucket, ParkBucket.entered, ParkBucket.exited)
        .where(ParkBucket.park_id == park.id, ParkBucket.bucket >= start,
               ParkBucket.bucket < end).order_by(ParkBucket.bucket)
    ).all()  # fmt: skip
    running, visitors, short = 0, [], []
    for _, entered, exited in rows:
        running += int(entered) - int(exited)
        visitors.append(max(0, running))
        short.append(running < 0)
    ahead: dict[int, float | None] = {}
    if day == today:
        minutes = [(b + BUCKET - start).total_seconds() / 60 for b, _, _ in rows]
        ahead = {h: forecast(minutes, visitors, h) for h in HORIZONS_MIN}
    return DayCurve(park, day, [b for b, _, _ in rows], [int(r[1]) for r in rows],
                    [int(r[2]) for r in rows], visitors, short, ahead)  # fmt: skip
