"""When features are: the ``datetime`` filter and the temporal extent of a layer.

A layer's registry entry names its time (``LayerSpec.time``): an instant (incidents'
``occurred_at``) or an interval (construction sites from ``starts_on`` to ``ends_on``).
A feature matches a time interval when its own time intersects it (OGC API – Features
part 1); a missing end of a feature's interval is open (a site without an end date is
still under way). A DATE holds a whole day of the bureau's time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, true
from sqlalchemy.orm import Session

from layers.accounts.roles import Permission
from layers.accounts.scope import Actor
from layers.features.registry import AttrType, LayerSpec, TimeExtent

LAST_CHANGE = TimeExtent("updated_at")  # the time of a layer without one of its own


@dataclass(frozen=True)
class TimeInterval:
    """An inclusive span of time, either end open (None); ``zone`` says whose days dates are."""

    start: datetime | None
    end: datetime | None
    zone: tzinfo


def _is_date(spec: LayerSpec, name: str) -> bool:
    return any(a.name == name and a.type is AttrType.DATE for a in spec.attributes)


def _columns(spec: LayerSpec) -> tuple[Any, Any, bool]:
    """Return the start and end columns of a layer's time and whether they are DATEs."""
    extent = spec.time or LAST_CHANGE
    model = spec.model
    end = extent.end or extent.start
    return getattr(model, extent.start), getattr(model, end), _is_date(spec, extent.start)


def interval_clause(spec: LayerSpec, interval: TimeInterval) -> ColumnElement[bool]:
    """Return "the feature's time intersects ``interval``"."""
    start, end, dates = _columns(spec)
    is_interval = spec.time is not None and spec.time.end is not None

    def bound(instant: datetime) -> datetime | date:
        return instant.astimezone(interval.zone).date() if dates else instant

    def open_or(column: Any, clause: ColumnElement[bool]) -> ColumnElement[bool]:
        return or_(column.is_(None), clause) if is_interval else clause

    parts: list[ColumnElement[bool]] = [true()]
    if interval.end is not None:
        parts.append(open_or(start, start <= bound(interval.end)))
    if interval.start is not None:
        parts.append(open_or(end, end >= bound(interval.start)))
    return and_(*parts)


def _instant(value: Any, zone: tzinfo, last: bool) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.combine(value, time(23, 59, 59) if last else time.min, zone)


def temporal_extent(
    *, session: Session, spec: LayerSpec, actor: Actor, zone: tzinfo
) -> tuple[datetime | None, datetime | None] | None:
    """Return the first and last instant of the features ``actor`` sees (None: open).

    None for a layer without a time of its own, or without a feature that has one.
    """
    actor.require(Permission.FEATURES_READ)
    if spec.time is None:
        return None
    start, end, _ = _columns(spec)
    mine = actor.scope.clause(spec.model)
    columns: list[Any] = [func.min(start), func.max(end)]
    if spec.time.end is not None:  # an interval without a start (an end) is open there
        columns += [func.bool_or(start.is_(None)), func.bool_or(end.is_(None))]
    row = session.execute(select(*columns).where(mine)).one()
    if row[0] is None and row[1] is None:
        return None
    first, last = _instant(row[0], zone, False), _instant(row[1], zone, True)
    if len(row) == 4:
        first, last = (None if row[2] else first), (None if row[3] else last)
    return first, last
