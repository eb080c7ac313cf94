"""Statistics of records (战果统计): counts by topic, kind, state, place and day, overdue work,
hazards opened and closed per week, and the results of topic cases.

Every figure is one SQL aggregate over the records of the asking user's jurisdiction
(what a unit user may see); counts by topic, kind, state and place come from the rollup
``record_counts``, kept by triggers, unless they ask for days or a period.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Float, Integer, and_, cast, func, or_, select
from sqlalchemy.orm import Session

from layers.accounts.roles import Permission
from layers.accounts.scope import Actor, ScopeKind
from layers.errors import InvalidInput
from layers.records.kinds import RecordKind
from layers.records.models import Record, RecordCount, RecordTransition
from layers.records.reading import visible_clause


def _groupings(zone: str) -> dict[str, Any]:
    return {
        "topic": Record.topic,
        "kind": Record.kind,
        "state": Record.state,
        "district": Record.district_id,
        "precinct": Record.precinct_id,
        "day": func.to_char(func.timezone(zone, Record.created_at), "YYYY-MM-DD"),
    }


GROUPS = tuple(_groupings("UTC"))


def in_jurisdiction(actor: Actor) -> ColumnElement[bool]:
    """Return "the record counts for ``actor``": in their district or precinct (all for the
    city); a unit user counts what it may see."""
    scope = actor.scope
    if scope.kind is ScopeKind.DISTRICT:
        return Record.district_id == scope.id
    if scope.kind is ScopeKind.PRECINCT:
        return Record.precinct_id == scope.id
    return visible_clause(actor)


def open_clause(kinds: Sequence[RecordKind]) -> ColumnElement[bool]:
    """Return "the record is of one of ``kinds`` and not in a closed state of its kind"."""
    return or_(*(and_(Record.kind == k.id, Record.state.not_in(k.workflow.closed)) for k in kinds))


def count_records(
    *,
    session: Session,
    actor: Actor,
    group_by: Sequence[str],
    zone: str,
    where: Mapping[str, str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[dict[str, Any]]:
    """Return record counts grouped by topic, kind, state, district, precinct and/or day."""
    actor.require(Permission.RECORDS_READ)
    groupings = _groupings(zone)
    unknown = [g for g in (*group_by, *(where or {})) if g not in groupings]
    if unknown or not group_by:
        raise InvalidInput(f"group by and filter on some of {', '.join(groupings)}; "
                           f"got {', '.join(unknown) or 'nothing to group by'}")  # fmt: skip
    if (
        actor.scope.kind is not ScopeKind.UNIT
        and not since
        and not until
        and "day" not in (*group_by, *(where or {}))
    ):
        return _from_rollup(session, actor, group_by, where or {})
    columns = [groupings[g].label(g) for g in group_by]
    query = select(*columns, func.count().label("count")).where(in_jurisdiction(actor))
    for name, value in (where or {}).items():
        query = query.where(cast(groupings[name], Record.kind.type) == value)
    if since is not None:
        query = query.where(Record.created_at >= since)
    if until is not None:
        query = query.where(Record.created_at < until)
    query = query.group_by(*columns).order_by(*columns)
    return [dict(row._mapping) for row in session.execute(query)]


_ROLLUP: dict[str, Any] = {
    "topic": RecordCount.topic,
    "kind": RecordCount.kind,
    "state": RecordCount.state,
    "district": func.nullif(RecordCount.district_id, -1),
    "precinct": func.nullif(RecordCount.precinct_id, -1),
}


def _from_rollup(
    session: Session, actor: Actor, group_by: Sequence[str], where: Mapping[str, str]
) -> list[dict[str, Any]]:
    """Answer a count from ``record_counts``: records in the actor's jurisdiction."""
    scope = actor.scope
    columns = [_ROLLUP[g].label(g) for g in group_by]
    total = func.sum(RecordCount.n)
    query = select(*columns, cast(total, BigInteger).label("count"))
    if scope.kind is ScopeKind.DISTRICT:
        query = query.where(RecordCount.district_id == scope.id)
    elif scope.kind is ScopeKind.PRECINCT:
        query = query.where(RecordCount.precinct_id == scope.id)
    for name, value in where.items():
        query = query.where(cast(_ROLLUP[name], Record.kind.type) == value)
    query = query.group_by(*columns).having(total > 0).order_by(*columns)
    return [dict(row._mapping) for row in session.execute(query)]


def count_overdue(
    *, session: Session, actor: Actor, kinds: Sequence[RecordKind], at: datetime
) -> list[dict[str, Any]]:
    """Return, per kind, how many open records are past their due time at ``at``."""
    actor.require(Permission.RECORDS_READ)
    query = (
        select(Record.kind, func.count().label("overdue"))
        .where(open_clause(kinds), Record.due_at < at, in_jurisdiction(actor))
        .group_by(Record.kind).order_by(Record.kind)
    )  # fmt: skip
    return [dict(row._mapping) for row in session.execute(query)]


def hazards_by_week(
    *, session: Session, actor: Actor, hazard: RecordKind, zone: str
) -> list[dict[str, Any]]:
    """Return, per ISO week, how many hazards were found and how many were closed."""
    actor.require(Permission.RECORDS_READ)

    def week_of(at: Any) -> ColumnElement[str]:
        return func.to_char(func.timezone(zone, at), 'IYYY"-W"IW')

    found = (
        select(week_of(Record.created_at).label("week"), func.count().label("found"))
        .where(Record.kind == hazard.id, in_jurisdiction(actor)).group_by("week")
    ).subquery()  # fmt: skip
    closed = (
        select(week_of(RecordTransition.at).label("week"), func.count().label("closed"))
        .join(Record, Record.id == RecordTransition.record_id)
        .where(Record.kind == hazard.id, RecordTransition.to_state.in_(hazard.workflow.closed),
               in_jurisdiction(actor))
        .group_by("week")
    ).subquery()  # fmt: skip
    week = func.coalesce(found.c.week, closed.c.week)
    both = found.join(closed, found.c.week == closed.c.week, full=True)
    query = select(
        week.label("week"), func.coalesce(found.c.found, 0).label("found"),
        func.coalesce(closed.c.closed, 0).label("closed"),
    ).select_from(both).order_by(week)  # fmt: skip
    return [dict(row._mapping) for row in session.execute(query)]


def results_by_topic(*, session: Session, actor: Actor, case: RecordKind) -> list[dict[str, Any]]:
    """Return the summed results of topic cases per topic: cases, people, value seized."""
    actor.require(Permission.RECORDS_READ)
    results = Record.details["results"]

    def number(key: str) -> ColumnElement[float]:
        return func.coalesce(func.sum(cast(results[key].astext, Float)), 0)

    query = (
        select(Record.topic, func.count().label("records"),
               number("cases").label("cases"), number("people").label("people"),
               number("value_yuan").label("value_yuan"))
        .where(Record.kind == case.id, in_jurisdiction(actor))
        .group_by(Record.topic).order_by(Record.topic)
    )  # fmt: skip
    return [dict(row._mapping) for row in session.execute(query)]


def open_hazards_by_level(
    *, session: Session, actor: Actor, hazard: RecordKind
) -> list[dict[str, Any]]:
    """Return how many hazards are open (not closed in their workflow) at each level, 1-4."""
    actor.require(Permission.RECORDS_READ)
    level = cast(Record.details["level"].astext, Integer).label("level")
    query = (
        select(level, func.count().label("open"))
        .where(open_clause([hazard]), in_jurisdiction(actor))
        .group_by(level).order_by(level)
    )  # fmt: skip
    return [dict(row._mapping) for row in session.execute(query)]
