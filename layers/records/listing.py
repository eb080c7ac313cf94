"""Lists of one kind of record for the people who work them: security tasks, clues, the
hazard ledger (the phone's views), soonest due first.

Only what the reader may list (``reading.visible_clause``: in the jurisdiction, created by
them or addressed to them). A record may be narrowed by a value of its details (a task's
``task_kind``); personal details cannot be (a match would tell the value).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from layers.accounts.roles import Permission
from layers.accounts.scope import Actor
from layers.errors import InvalidInput
from layers.records.kinds import RecordKind
from layers.records.models import Record, RecordLink
from layers.records.reading import visible_clause
from layers.records.refs import FeatureRef

__all__ = ["RecordFilter", "links_of_records", "list_records"]


@dataclass(frozen=True)
class RecordFilter:
    """Which records of ``kind``: open ones only (the default), a detail among values."""

    kind: RecordKind
    open_only: bool = True
    details: Mapping[str, Sequence[str]] = field(default_factory=dict)


def _detail_clauses(
    kind: RecordKind, details: Mapping[str, Sequence[str]]
) -> list[ColumnElement[bool]]:
    known = set(kind.details.model_fields) - set(kind.personal) - {"assignees"}
    clauses: list[ColumnElement[bool]] = []
    for name, values in details.items():
        if name not in known:
            raise InvalidInput(f"records of kind {kind.id!r} cannot be narrowed by {name!r}; "
                               f"by: {', '.join(sorted(known)) or 'nothing'}")  # fmt: skip
        clauses.append(Record.details[name].astext.in_(list(values)))
    return clauses


def list_records(
    *, session: Session, actor: Actor, which: RecordFilter, limit: int
) -> list[Record]:
    """Return up to ``limit`` records the actor may list: soonest due first, then newest."""
    actor.require(Permission.RECORDS_READ)
    kind = which.kind
    query = select(Record).where(
        Record.kind == kind.id, visible_clause(actor), *_detail_clauses(kind, which.details)
    )
    if which.open_only:
        query = query.where(Record.state.not_in(kind.workflow.closed))
    order = (Record.due_at.asc().nulls_last(), Record.created_at.desc(), Record.id.desc())
    return list(session.scalars(query.order_by(*order).limit(limit)))


def links_of_records(session: Session, record_ids: Sequence[int]) -> dict[int, list[FeatureRef]]:
    """Return the features each of ``record_ids`` concerns (one query for them all)."""
    found: dict[int, list[FeatureRef]] = defaultdict(list)
    if not record_ids:
        return found
    rows = session.execute(
        select(RecordLink.record_id, RecordLink.layer, RecordLink.feature_id)
        .where(RecordLink.record_id.in_(list(record_ids)))
        .order_by(RecordLink.record_id, RecordLink.layer, RecordLink.feature_id)
    )  # fmt: skip
    for record_id, layer, feature_id in rows:
        found[record_id].append(FeatureRef(layer, feature_id))
    return found
