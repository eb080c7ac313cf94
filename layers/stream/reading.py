"""Reading the event log in id order: pages for replay and backlogs, batches for the stream.

Ids become visible in id order (migration 0026: drawn under a lock held to commit), so
whoever has read up to id N and next asks for ``id > N`` misses nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from layers.accounts.scope import Actor
from layers.audit.models import Event
from layers.errors import PermissionDenied
from layers.features.filters import BBox
from layers.stream.access import may_read_events, visible_events
from layers.stream.filters import EventFilter


@dataclass(frozen=True)
class EventRow:
    """One event as clients see it: id, time, type, what and where, and its payload."""

    id: int
    at: datetime
    type: str
    layer: str | None
    feature_id: int | None
    bbox: BBox | None
    payload: dict[str, Any]


@dataclass(frozen=True)
class Span:
    """Which part of the log: ids in ``(after, upto]``, times in ``[since, until]``."""

    after: int = 0
    upto: int | None = None
    since: datetime | None = None
    until: datetime | None = None


def _select_rows() -> Select[Any]:
    return select(
        Event.id, Event.at, Event.type, Event.layer, Event.feature_id,
        func.ST_XMin(Event.bbox), func.ST_YMin(Event.bbox),
        func.ST_XMax(Event.bbox), func.ST_YMax(Event.bbox), Event.payload,
    )  # fmt: skip


def _row(row: Any) -> EventRow:
    bbox = None if row[5] is None else (row[5], row[6], row[7], row[8])
    return EventRow(row[0], row[1], row[2], row[3], row[4], bbox, row[9])


def _within(query: Select[Any], span: Span) -> Select[Any]:
    query = query.where(Event.id > span.after)
    if span.upto is not None:
        query = query.where(Event.id <= span.upto)
    if span.since is not None:
        query = query.where(Event.at >= span.since)
    if span.until is not None:
        query = query.where(Event.at <= span.until)
    return query


def require_reader(actor: Actor) -> None:
    """Raise ``PermissionDenied`` unless the actor may read the event log."""
    if not may_read_events(actor):
        raise PermissionDenied(f"role {actor.role.value!r} may not read the event log")


def read_events(
    *, session: Session, actor: Actor, wanted: EventFilter, span: Span, limit: int
) -> list[EventRow]:
    """Return the first ``limit`` events of ``span`` the actor may see and asked for, by id."""
    require_reader(actor)
    query = _within(_select_rows(), span).where(visible_events(actor), wanted.clause())
    return [_row(row) for row in session.execute(query.order_by(Event.id).limit(limit))]


def rows_between(*, session: Session, after: int, upto: int, limit: int) -> list[EventRow]:
    """Return the first ``limit`` events with ``after < id <= upto``, whoever may see them."""
    query = _within(_select_rows(), Span(after=after, upto=upto))
    return [_row(row) for row in session.execute(query.order_by(Event.id).limit(limit))]


def matching_ids(
    *, session: Session, actor: Actor, wanted: EventFilter, after: int, upto: int
) -> list[int]:
    """Return the ids in ``(after, upto]`` of the events the actor may see and asked for."""
    query = _within(select(Event.id), Span(after=after, upto=upto))
    query = query.where(visible_events(actor), wanted.clause()).order_by(Event.id)
    return list(session.scalars(query))


def newest_event_id(session: Session) -> int:
    """Return the highest event id committed so far (0 for an empty log)."""
    return int(session.scalar(select(func.coalesce(func.max(Event.id), 0))) or 0)
