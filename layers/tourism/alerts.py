"""Capacity alerts: a park's level on each basis, one alert per crossing, with hysteresis.

A park rises to a level as soon as its ratio reaches the level's threshold, and falls
from it only once the ratio is ``hysteresis_pct`` points below it: a park hovering at
80 % raises one yellow alert, not one per batch. Each change of level is one alert row
and one ``tourism.alert`` event (layer ``parks``, so the event log keeps the park's
jurisdiction and the live stream carries it to those who may see the park). Levels
start again from normal each local day. The callers hold the parks' rows of today in
``park_days`` (their batch just wrote them), so one park is weighed by one transaction
at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, aliased

from layers.accounts.roles import Permission
from layers.accounts.scope import Actor
from layers.audit.service import lock_event_log
from layers.features.models import Park
from layers.settings import TourismSettings
from layers.tourism.models import LEVELS, ParkAlert, ParkAlertState, ParkLevels
from layers.tourism.parks import PARK_INFO, Levels, ParkInfo, default_levels, local_day

NORMAL = 0


def level_of(ratio_pct: float, levels: Levels, current: int, hysteresis_pct: float) -> int:
    """Return the level (index into ``LEVELS``) a park at ``ratio_pct`` stands at now.

    Rising takes the threshold itself; staying at (or falling to) a level below the
    current one needs the ratio above that level's threshold minus the hysteresis.
    """
    thresholds = levels.thresholds()
    reached = sum(1 for t in thresholds if ratio_pct >= t)
    if reached >= current:
        return reached
    held = sum(1 for t in thresholds[:current] if ratio_pct >= t - hysteresis_pct)
    return max(reached, held)


@dataclass(frozen=True)
class Standing:
    """A park's visitors against a capacity on one basis, today."""

    park: ParkInfo
    basis: str
    visitors: int
    capacity: int


def standings(parks: Sequence[tuple[ParkInfo, int, int]]) -> list[Standing]:
    """Return each park's standing on both bases from (park, in, out) of today.

    Instantaneous: visitors inside now (in minus out, never below zero) against
    ``capacity``; daily: visitors who came in today against ``daily_capacity``.
    """
    found = []
    for park, entered, exited in parks:
        if park.capacity:
            found.append(Standing(park, "instant", max(0, entered - exited), park.capacity))
        if park.daily_capacity:
            found.append(Standing(park, "daily", entered, park.daily_capacity))
    return found


def _standing_rows(session: Session, park_ids: list[int], day: date
                   ) -> list[tuple[Any, ...]]:  # fmt: skip
    """Return each park's info, its own levels (or NULLs) and its levels on both bases today.

    One statement, after the caller's batch: the batch holds the parks' rows of today in
    ``park_days``, so a concurrent batch of the same park has committed its levels by now.
    """
    instant, daily = aliased(ParkAlertState), aliased(ParkAlertState)
    today = {basis: case((state.day == day, state.level), else_=None)
             for basis, state in (("instant", instant), ("daily", daily))}  # fmt: skip
    return [tuple(row) for row in session.execute(
        select(*PARK_INFO, ParkLevels.yellow, ParkLevels.orange, ParkLevels.red, ParkLevels.stop,
               ParkLevels.version, instant.park_id.is_not(None), today["instant"],
               daily.park_id.is_not(None), today["daily"])
        .outerjoin(ParkLevels, ParkLevels.park_id == Park.id)
        .outerjoin(instant, and_(instant.park_id == Park.id, instant.basis == "instant"))
        .outerjoin(daily, and_(daily.park_id == Park.id, daily.basis == "daily"))
        .where(Park.id.in_(park_ids)).order_by(Park.id)
    )]  # fmt: skip


_EVENTS = """
INSERT INTO events (type, layer, feature_id, bbox, payload, actor_id)
SELECT 'tourism.alert', 'parks', a.park_id, ST_Envelope(p.geom),
       jsonb_build_object('alert_id', a.id, 'park_name', a.park_name, 'basis', a.basis,
                          'level', a.level, 'previous', a.previous, 'visitors', a.visitors,
                          'capacity', a.capacity, 'ratio', a.ratio, 'at', a.at),
       :actor
FROM park_alerts AS a JOIN parks AS p ON p.id = a.park_id
WHERE a.id = ANY(CAST(:ids AS bigint[])) ORDER BY a.id
"""


def weigh_parks(
    session: Session, today: Sequence[tuple[int, int, int]], *, settings: TourismSettings,
    zone: ZoneInfo, now: datetime, actor: Actor,
) -> list[ParkAlert]:  # fmt: skip
    """Weigh parks' (id, in, out) of today against their levels; store and announce crossings.

    The caller holds the parks' rows of today in ``park_days`` (its batch just wrote
    them): one park is weighed by one transaction at a time.
    """
    if not today:
        return []
    day = local_day(now, zone)
    totals = {park_id: (entered, exited) for park_id, entered, exited in today}
    fallback = default_levels(settings)
    parks, levels, states = [], {}, {}
    for row in _standing_rows(session, sorted(totals), day):
        park = ParkInfo(*row[:6])
        parks.append((park, *totals[park.id]))
        levels[park.id] = Levels(*row[6:11]) if row[6] is not None else fallback
        for basis, (stored, level) in (("instant", row[11:13]), ("daily", row[13:15])):
            if stored:  # a row from an earlier day counts as normal today
                states[(park.id, basis)] = NORMAL if level is None else level
    alerts, changed = [], []
    for s in standings(parks):
        key = (s.park.id, s.basis)
        before = states.get(key, NORMAL)
        ratio = s.visitors / s.capacity
        after = level_of(ratio * 100, levels[s.park.id], before, settings.hysteresis_pct)
        if (key in states and after == before) or (key not in states and after == NORMAL):
            continue
        changed.append({"park_id": s.park.id, "basis": s.basis, "day": day, "level": after})
        if after != before:
            alerts.append(ParkAlert(park_id=s.park.id, park_name=s.park.name, basis=s.basis,
                                    level=LEVELS[after], previous=LEVELS[before],
                                    visitors=s.visitors, capacity=s.capacity, ratio=ratio,
                                    at=now))  # fmt: skip
    if changed:
        upsert = insert(ParkAlertState).values(changed)
        session.execute(upsert.on_conflict_do_update(
            index_elements=["park_id", "basis"],
            set_={"day": upsert.excluded.day, "level": upsert.excluded.level},
        ))  # fmt: skip
    if alerts:
        session.add_all(alerts)
        session.flush()
        lock_event_log(session)  # taken last, held briefly: it orders every writer
        session.execute(text(_EVENTS), {"ids": [a.id for a in alerts], "actor": actor.user_id})
    return alerts


def list_alerts(*, session: Session, actor: Actor, limit: int, park_id: int | None = None
                ) -> list[ParkAlert]:  # fmt: skip
    """Return the alerts of parks the actor may see (of one park if ``park_id``), newest first."""
    actor.require(Permission.FEATURES_READ)
    query = (
        select(ParkAlert).join(Park, Park.id == ParkAlert.park_id)
        .where(actor.scope.clause(Park)).order_by(ParkAlert.id.desc()).limit(limit)
    )  # fmt: skip
    if park_id is not None:
        query = query.where(ParkAlert.park_id == park_id)
    return list(session.scalars(query))
