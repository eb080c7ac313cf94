"""Which features have overdue work: open tasks about them past their due time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from layers.accounts.roles import Permission
from layers.accounts.scope import Actor
from layers.features.operators import within_reach
from layers.features.registry import LayerSpec
from layers.records.catalog import get_kind
from layers.records.models import Record, RecordLink

__all__ = ["with_overdue_tasks"]


def with_overdue_tasks(
    *, session: Session, spec: LayerSpec, actor: Actor, at: datetime, limit: int
) -> list[int]:  # fmt: skip
    """Return the ids (smallest first) of features in reach with an open task due before ``at``."""
    actor.require(Permission.RECORDS_READ)
    workflow = get_kind("task").workflow
    reachable = select(spec.model.id).where(within_reach(spec, actor))
    found = (
        select(RecordLink.feature_id).join(Record, Record.id == RecordLink.record_id)
        .where(Record.kind == "task", Record.due_at < at,
               Record.state.not_in(sorted(workflow.closed)), RecordLink.layer == spec.id,
               RecordLink.feature_id.in_(reachable))
        .group_by(RecordLink.feature_id).order_by(RecordLink.feature_id).limit(limit)
    )  # fmt: skip
    return list(session.scalars(found))
