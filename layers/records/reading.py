"""Reading records: what a user may list, a feature's timeline, what runs now."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, CompoundSelect, and_, exists, func, or_, select, true
from sqlalchemy.orm import Session

from layers.accounts.roles import Permission
from layers.accounts.scope import Actor, ScopeKind
from layers.cursors import INVALID, is_bigint, pack_cursor, unpack_cursor
from layers.errors import InvalidInput
from layers.features.operators import FeatureOperator, reach_feature
from layers.features.registry import LayerSpec
from layers.records.kinds import RecordKind
from layers.records.messages import Message, addressed_to
from layers.records.models import Record, RecordLink, RecordTransition


@dataclass(frozen=True)
class TimelinePage:
    """One page of a feature's records, newest first, and the cursor of the next."""

    records: list[Record]
    next_cursor: str | None


def visible_clause(actor: Actor) -> ColumnElement[bool]:
    """Return the SQL condition keeping the records ``actor`` may list: in scope, or theirs."""
    scope = actor.scope
    if scope.kind is ScopeKind.CITY:
        return true()
    mine = or_(
        Record.created_by == actor.user_id,
        exists().where(Message.record_id == Record.id, addressed_to(actor)),
    )
    if scope.kind is ScopeKind.DISTRICT:
        return or_(Record.district_id == scope.id, mine)
    if scope.kind is ScopeKind.PRECINCT:
        return or_(Record.precinct_id == scope.id, mine)
    return or_(Record.id.in_(about_the_unit(scope.id)), mine)


def about_the_unit(unit_id: int | None) -> CompoundSelect[int]:
    """Return the ids of the records about a unit or a feature it operates (a station...)."""
    its_own = select(RecordLink.record_id).where(
        RecordLink.layer == "units", RecordLink.feature_id == unit_id
    )
    operated = (
        select(RecordLink.record_id)
        .join(FeatureOperator, and_(FeatureOperator.layer == RecordLink.layer,
                                    FeatureOperator.feature_id == RecordLink.feature_id))
        .where(FeatureOperator.unit_id == unit_id)
    )  # fmt: skip
    return its_own.union_all(operated)


def active_records(
    *,
    session: Session,
    actor: Actor,
    kinds: Sequence[RecordKind],
    at: datetime,
    bbox: tuple[float, float, float, float] | None,
    limit: int,
) -> list[Record]:
    """Return the open records of ``kinds`` whose period holds ``at``, soonest ending first."""
    actor.require(Permission.RECORDS_READ)
    by_kind = [
        and_(Record.kind == kind.id, Record.state.not_in(kind.workflow.closed)) for kind in kinds
    ]
    query = (
        select(Record)
        .where(or_(*by_kind), Record.starts_at <= at,
               or_(Record.ends_at.is_(None), Record.ends_at >= at), visible_clause(actor))
        .order_by(Record.ends_at.asc().nulls_last(), Record.id)
        .limit(limit)
    )  # fmt: skip
    if bbox is not None:
        query = query.where(Record.geom.intersects(func.ST_MakeEnvelope(*bbox, 4326)))
    return list(session.scalars(query))


def history_of(session: Session, record_id: int) -> list[RecordTransition]:
    """Return a record's workflow steps, oldest first."""
    return list(session.scalars(
        select(RecordTransition).where(RecordTransition.record_id == record_id)
        .order_by(RecordTransition.id)
    ))  # fmt: skip


def _encode_cursor(record: Record) -> str:
    return pack_cursor([record.created_at.isoformat(), record.id])


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    at, record_id = unpack_cursor(cursor, 2)
    try:
        moment = datetime.fromisoformat(at)
    except (ValueError, TypeError):
        raise InvalidInput(INVALID) from None
    if not is_bigint(record_id) or moment.tzinfo is None:
        raise InvalidInput(INVALID)
    return moment, record_id


def feature_timeline(
    *,
    session: Session,
    spec: LayerSpec,
    feature_id: int,
    actor: Actor,
    kinds: Collection[str] = (),
    states: Collection[str] = (),
    limit: int,
    cursor: str | None = None,
) -> TimelinePage:
    """Return a page of every record about a feature the actor may see, newest first.

    A transit company's users see the timelines of the features it operates too.
    """
    reach_feature(session=session, spec=spec, feature_id=feature_id, actor=actor)
    actor.require(Permission.RECORDS_READ)
    query = (
        select(Record)
        .join(RecordLink, RecordLink.record_id == Record.id)
        .where(RecordLink.layer == spec.id, RecordLink.feature_id == feature_id)
        .order_by(Record.created_at.desc(), Record.id.desc())
        .limit(limit + 1)
    )
    if kinds:
        query = query.where(Record.kind.in_(kinds))
    if states:
        query = query.where(Record.state.in_(states))
    if cursor:
        at, record_id = _decode_cursor(cursor)
        query = query.where(
            or_(Record.created_at < at, and_(Record.created_at == at, Record.id < record_id))
        )
    records = list(session.scalars(query))
    more = len(records) > limit
    records = records[:limit]
    return TimelinePage(records, _encode_cursor(records[-1]) if more and records else None)
