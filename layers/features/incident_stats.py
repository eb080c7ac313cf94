"""Incidents of today and yesterday (the bureau's days): totals, by hour and by district.

What the command center's wall compares: how many incidents so far today against all of
yesterday and against yesterday up to the same hour, when in the day they come, and
where. One aggregate over the caller's jurisdiction (``ix_incidents_occurred_at``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, cast, extract, func, select
from sqlalchemy.orm import Session

from layers.accounts.roles import Permission
from layers.accounts.scope import Actor
from layers.features.models import District, Incident


@dataclass(frozen=True)
class DistrictCount:
    """Today's incidents of one district (``district_id`` None: outside every district)."""

    district_id: int | None
    name: str | None
    count: int


@dataclass(frozen=True)
class IncidentDays:
    """Incidents of today and yesterday until ``now``, in the bureau's time zone."""

    now: datetime
    today: int = 0
    yesterday: int = 0
    yesterday_until_now: int = 0
    today_by_hour: list[int] = field(default_factory=lambda: [0] * 24)
    yesterday_by_hour: list[int] = field(default_factory=lambda: [0] * 24)
    today_by_district: list[DistrictCount] = field(default_factory=list)


def incident_days(*, session: Session, actor: Actor, now: datetime, zone: ZoneInfo) -> IncidentDays:
    """Return the incidents the actor may see that occurred yesterday and today up to ``now``."""
    actor.require(Permission.FEATURES_READ)
    local_now = now.astimezone(zone)
    today_start = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
    yesterday_start = (today_start - timedelta(hours=12)).replace(hour=0)  # DST-proof
    local = func.timezone(zone.key, Incident.occurred_at)
    is_today = Incident.occurred_at >= today_start
    rows = session.execute(
        select(is_today.label("today"), cast(extract("hour", local), Integer).label("hour"),
               Incident.district_id, (Incident.occurred_at <= now - (today_start - yesterday_start))
               .label("by_now"), func.count().label("n"))
        .where(Incident.occurred_at >= yesterday_start, Incident.occurred_at <= now,
               actor.scope.clause(Incident))
        .group_by("today", "hour", Incident.district_id, "by_now")
    ).all()  # fmt: skip
    days = IncidentDays(now=now)
    per_district: dict[int | None, int] = {}
    totals = {"today": 0, "yesterday": 0, "yesterday_until_now": 0}
    for today, hour, district_id, by_now, n in rows:
        if today:
            totals["today"] += n
            days.today_by_hour[hour] += n
            per_district[district_id] = per_district.get(district_id, 0) + n
        else:
            totals["yesterday"] += n
            totals["yesterday_until_now"] += n if by_now else 0
            days.yesterday_by_hour[hour] += n
    known = [d for d in per_district if d is not None]
    names: dict[int, str] = {
        ident: name
        for ident, name in session.execute(
            select(District.id, District.name).where(District.id.in_(known))
        )
    }
    ranked = sorted(per_district.items(), key=lambda item: (-item[1], item[0] or 0))
    return IncidentDays(
        now=now, **totals, today_by_hour=days.today_by_hour,
        yesterday_by_hour=days.yesterday_by_hour,
        today_by_district=[DistrictCount(d, names.get(d) if d else None, n) for d, n in ranked],
    )  # fmt: skip
