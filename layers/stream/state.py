"""The city as it was at a past instant: open records, recent incidents, vehicles' places.

What can be rebuilt, and from what:

- a record's state at T is the target of its last workflow step at or before T
  (``record_transitions``); it was open if that state is not closed. Its place is where
  it is now (records follow their feature; where they stood before is not kept).
- an incident is the row as it is now unless a write through the feature door changed
  it after T: then the audit log's snapshot from before the first such write is its
  state at T (status, level, place). Incidents deleted since T are not shown.
- a vehicle stood at its last reported position at or before T, if that report is at
  most ``position_max_age_s`` old (``vehicle_positions``); otherwise it is not shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    case,
    cast,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Session

from layers.accounts.roles import Permission
from layers.accounts.scope import Actor
from layers.audit.models import AuditRecord
from layers.features.filters import BBox
from layers.features.models import Incident, Vehicle
from layers.records.kinds import RecordKind
from layers.records.models import Record, RecordTransition
from layers.records.reading import visible_clause
from layers.tracks.models import VehiclePosition

# records.updated_at is written from the application's clock, transitions' times from
# the database's: a record touched this close to T is weighed by its steps too.
CLOCK_SLACK = timedelta(minutes=1)


@dataclass(frozen=True)
class PastRecord:
    """A record open at T: its state then and now, whether it was overdue, where it is."""

    id: int
    kind: str
    topic: str
    title: str
    priority: int
    state: str
    state_now: str
    due_at: datetime | None
    overdue: bool
    opened_at: datetime
    lon: float | None
    lat: float | None
    level: int | None = None  # a hazard's level 1-4 (its details' "level"); None for others


@dataclass(frozen=True)
class PastIncident:
    """An incident as it stood at T; ``changed_since``: rebuilt from the audit log."""

    id: int
    name: str
    category: str
    level: int
    status: str
    occurred_at: datetime
    lon: float
    lat: float
    changed_since: bool
    district_id: int | None = None  # its district (分局) as now; None outside every district


@dataclass(frozen=True)
class PastVehicle:
    """A vehicle at its last reported position at or before T."""

    id: int
    name: str
    plate: str
    kind: str
    lon: float
    lat: float
    position_at: datetime
    speed_kmh: float | None
    heading_deg: float | None


def _in_box(lon: Any, lat: Any, bbox: BBox | None) -> ColumnElement[bool]:
    if bbox is None:
        return true()
    west, south, east, north = bbox
    return and_(lon.between(west, east), lat.between(south, north))


def _open(kinds: list[RecordKind], state: Any) -> ColumnElement[bool]:
    return or_(*[and_(Record.kind == k.id, state.not_in(k.workflow.closed)) for k in kinds])


def open_records_at(
    *, session: Session, actor: Actor, at: datetime, kinds: list[RecordKind],
    bbox: BBox | None, limit: int,
) -> list[PastRecord]:  # fmt: skip
    """Return up to ``limit`` records of ``kinds`` the actor may see that were open at ``at``."""
    actor.require(Permission.RECORDS_READ)
    step = (
        select(RecordTransition.to_state)
        .where(RecordTransition.record_id == Record.id, RecordTransition.at <= at)
        .order_by(RecordTransition.at.desc(), RecordTransition.id.desc())
        .limit(1).correlate(Record).scalar_subquery()
    )  # fmt: skip
    # without a step kept, a record untouched since T was then as it is now
    then = func.coalesce(step, case((Record.updated_at <= at, Record.state)))
    lon, lat = func.ST_X(Record.geom), func.ST_Y(Record.geom)
    candidates = (
        select(Record.id, then.label("then"))
        .where(Record.kind.in_([k.id for k in kinds]), Record.created_at <= at,
               or_(_open(kinds, Record.state), Record.updated_at > at - CLOCK_SLACK),
               visible_clause(actor), _in_box(lon, lat, bbox))
        .subquery()
    )  # fmt: skip
    query = (
        select(Record, candidates.c.then, lon, lat)
        .join(candidates, candidates.c.id == Record.id)
        .where(_open(kinds, candidates.c.then))
        .order_by(Record.id)
        .limit(limit)
    )
    return [
        PastRecord(
            id=r.id, kind=r.kind, topic=r.topic, title=r.title, priority=r.priority,
            state=state, state_now=r.state, due_at=r.due_at,
            overdue=r.due_at is not None and r.due_at < at, opened_at=r.created_at,
            lon=x, lat=y, level=_level(r.details),
        )
        for r, state, x, y in session.execute(query)
    ]  # fmt: skip


def _level(details: Any) -> int | None:
    level = details.get("level") if isinstance(details, dict) else None
    return level if isinstance(level, int) else None


def _snapshots_before(session: Session, ids: list[int], at: datetime) -> dict[int, Any]:
    """Return each incident's audited state from before its first write after ``at``."""
    if not ids:
        return {}
    rows = session.execute(
        select(AuditRecord.target_id, AuditRecord.before)
        .where(AuditRecord.target_type == "incidents", AuditRecord.result == "ok",
               AuditRecord.target_id.in_([str(i) for i in ids]), AuditRecord.at > at,
               AuditRecord.before.is_not(None))
        .order_by(AuditRecord.target_id, AuditRecord.id)
        .ext(distinct_on(AuditRecord.target_id))
    )  # fmt: skip
    return {int(target): before for target, before in rows}


def _as_then(row: Any, then: Any) -> PastIncident:
    if then is None:
        ident, name, category, level, status, occurred_at, lon, lat, district = row
        return PastIncident(ident, name, category, level, status, occurred_at, lon, lat, False,
                            district)  # fmt: skip
    props, (lon, lat) = then["properties"], then["geometry"]["coordinates"]
    return PastIncident(row[0], props["name"], props["category"], props["level"],
                        props["status"], datetime.fromisoformat(props["occurred_at"]), lon, lat,
                        changed_since=True, district_id=row[8])  # fmt: skip


def incidents_at(
    *, session: Session, actor: Actor, at: datetime, since: datetime, bbox: BBox | None,
    limit: int,
) -> list[PastIncident]:  # fmt: skip
    """Return up to ``limit`` incidents that occurred in ``(since, at]``, as they stood at ``at``.

    Those written since may have stood elsewhere then: they are placed before the box
    is applied, so the rows of the window are read whole (a day's incidents).
    """
    actor.require(Permission.FEATURES_READ)
    lon, lat = func.ST_X(Incident.geom), func.ST_Y(Incident.geom)
    rows = session.execute(
        select(Incident.id, Incident.name, Incident.category, Incident.level, Incident.status,
               Incident.occurred_at, lon, lat, Incident.district_id)
        .where(Incident.occurred_at > since, Incident.occurred_at <= at,
               Incident.created_at <= at, actor.scope.clause(Incident),
               or_(_in_box(lon, lat, bbox), Incident.updated_at > at - CLOCK_SLACK))
        .order_by(Incident.occurred_at, Incident.id)
    ).all()  # fmt: skip
    before = _snapshots_before(session, [row[0] for row in rows], at)
    placed = (_as_then(row, before.get(row[0])) for row in rows)
    return [i for i in placed if bbox is None or _holds(bbox, i.lon, i.lat)][:limit]


def _holds(bbox: BBox, lon: float, lat: float) -> bool:
    return bbox[0] <= lon <= bbox[2] and bbox[1] <= lat <= bbox[3]


def vehicles_at(
    *, session: Session, actor: Actor, at: datetime, max_age_s: float, bbox: BBox | None,
    limit: int,
) -> list[PastVehicle]:  # fmt: skip
    """Return up to ``limit`` vehicles with a position reported within ``max_age_s`` of ``at``."""
    actor.require(Permission.FEATURES_READ)
    last = (
        select(VehiclePosition.at, VehiclePosition.lon, VehiclePosition.lat,
               VehiclePosition.speed_kmh, VehiclePosition.heading_deg)
        .where(VehiclePosition.vehicle_id == Vehicle.id, VehiclePosition.at <= at,
               VehiclePosition.at >= at - timedelta(seconds=max_age_s))
        .order_by(VehiclePosition.at.desc())
        .limit(1)
        .lateral()
    )  # fmt: skip
    query = (
        select(Vehicle.id, Vehicle.name, Vehicle.plate, cast(Vehicle.kind, String), last.c.lon,
               last.c.lat, last.c.at, last.c.speed_kmh, last.c.heading_deg)
        .join(last, true())
        .where(actor.scope.clause(Vehicle), _in_box(last.c.lon, last.c.lat, bbox))
        .order_by(Vehicle.id)
        .limit(limit)
    )  # fmt: skip
    return [PastVehicle(*row) for row in session.execute(query)]
