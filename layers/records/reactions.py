"""Records that start others: the hooks that tie one kind's step to another kind.

Kind modules never import each other; the catalog wires these in.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from layers.accounts.scope import Actor
from layers.records.kinds import OnEnter, RecordKind
from layers.records.models import Record
from layers.records.service import NewRecord, create_record, links_of


def becomes_a_task(task: RecordKind, source: RecordKind, task_kind: str, about: str) -> OnEnter:
    """Return the hook making a record of ``source`` a task of ``task_kind`` about it.

    The task concerns the record's features, is described by its ``about`` detail and
    handed to its assignees (a lead assigns it); the record keeps its ``task_id``. An
    approved police-support request, a clue taken into verification.
    """

    def hand_over(session: Session, record: Record, actor: Actor) -> None:
        new = NewRecord(
            title=f"{source.title}: {record.title}"[:200], topic=record.topic,
            features=links_of(session, record.id), priority=3,
            due_at=record.starts_at or record.due_at, starts_at=record.starts_at,
            ends_at=record.ends_at,
            details={"task_kind": task_kind, "description": record.details[about],
                     "assignees": record.details.get("assignees", [])},
        )  # fmt: skip
        made = create_record(session=session, kind=task, new=new, actor=actor)
        record.details = {**record.details, "task_id": made.id}

    return hand_over
