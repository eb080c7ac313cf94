"""Records that start others: the hooks that tie one kind's step to another kind.

Kind modules never import each other; the catalog wires these in.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from layers.accounts.scope import Actor
from layers.records.kinds import OnEnter, RecordKind
from layers.records.models import Record
from layers.records.service import NewRecord, create_record, links_of


def support_becomes_a_task(task: RecordKind) -> OnEnter:
    """Return the hook turning an approved police-support request into a task about it."""

    def hand_over(session: Session, record: Record, actor: Actor) -> None:
        new = NewRecord(
            title=f"警务支援: {record.title}"[:200], topic=record.topic,
            features=links_of(session, record.id), priority=3, due_at=record.starts_at,
            starts_at=record.starts_at, ends_at=record.ends_at,
            details={"task_kind": "police_support", "description": record.details["reason"]},
        )  # fmt: skip
        made = create_record(session=session, kind=task, new=new, actor=actor)
        record.details = {**record.details, "task_id": made.id}

    return hand_over
