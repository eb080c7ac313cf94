"""Acting on what a ring or a selection holds: tasks from a template, a notice to its units.

Both go through the records' own doors (``layers.records.bulk``, ``create_record``,
``send_notice``), so their roles, scope, audit and inbox rules hold unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from layers.accounts.scope import Actor
from layers.errors import InvalidInput
from layers.records.bulk import create_per_feature
from layers.records.models import Record
from layers.records.notices import NewNotice, send_notice
from layers.records.refs import FeatureRef
from layers.records.service import NewRecord, create_record
from layers.records.tasks import TASK


@dataclass(frozen=True)
class TaskTemplate:
    """What every task made from a ring or selection says; ``one_per_feature`` or one for all."""

    title: str
    topic: str
    details: dict[str, Any]
    priority: int = 2
    due_at: datetime | None = None
    one_per_feature: bool = True


@dataclass(frozen=True)
class NoticeTemplate:
    """What a notice to the units of a ring or selection says."""

    title: str
    topic: str
    body: str


def create_tasks(
    *, session: Session, template: TaskTemplate, features: Sequence[FeatureRef], actor: Actor
) -> list[int]:
    """Create a task per feature (or one about them all) from ``template``; return the ids."""
    if not features:
        raise InvalidInput("there is nothing to make tasks about: no features were found")
    new = NewRecord(title=template.title, topic=template.topic, features=features,
                    details=template.details, priority=template.priority,
                    due_at=template.due_at)  # fmt: skip
    if template.one_per_feature:
        return create_per_feature(session=session, kind=TASK, new=new, actor=actor)
    return [create_record(session=session, kind=TASK, new=new, actor=actor).id]


def notify_units(
    *, session: Session, template: NoticeTemplate, unit_ids: Sequence[int], actor: Actor
) -> tuple[Record, int]:
    """Send one notice to every unit of ``unit_ids``; return it and how many it reached."""
    if not unit_ids:
        raise InvalidInput("there is no unit to send the notice to")
    notice = NewNotice(title=template.title, topic=template.topic, body=template.body,
                       units=list(unit_ids))  # fmt: skip
    return send_notice(session=session, notice=notice, actor=actor)
