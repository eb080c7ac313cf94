"""Submit a form about a feature: check, score, keep, and open the hazards it finds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from layers.accounts.scope import Actor, ScopeKind
from layers.errors import InvalidInput
from layers.records.catalog import get_kind
from layers.records.forms import get_template, hazards_for, score_answers
from layers.records.kinds import RecordKind
from layers.records.models import Record
from layers.records.refs import FeatureRef
from layers.records.service import NewRecord, create_record, require_creator

# The form kind each submission kind fills in.
FORM_OF_KIND = {"inspection": "inspection", "self_check": "self_check", "assessment": "assessment"}


@dataclass(frozen=True)
class Submission:
    """A form filled in about features."""

    template: str
    answers: dict[str, Any]
    features: Sequence[FeatureRef]
    topic: str
    title: str | None = None
    template_version: int | None = None


def _hazard(
    title: str, submission: Submission, level: int, category: str, description: str
) -> NewRecord:
    details = {"level": level, "category": category, "description": description}
    return NewRecord(title=title[:200], topic=submission.topic, features=submission.features,
                     details=details)  # fmt: skip


def submit_form(
    *, session: Session, kind: RecordKind, submission: Submission, actor: Actor
) -> tuple[Record, list[Record]]:
    """Keep a scored submission of ``kind``; return it and the hazards its failures opened."""
    require_creator(session, kind, actor)
    template = get_template(session=session, code=submission.template, actor=actor,
                            version=submission.template_version)  # fmt: skip
    if template.form_kind != FORM_OF_KIND[kind.id]:
        raise InvalidInput(f"form {template.code!r} is a {template.form_kind} form, "
                           f"not one for a {kind.id}")  # fmt: skip
    score = score_answers(template, submission.answers)
    details = {"template": template.code, "template_version": template.version,
               "answers": submission.answers, **score.as_details()}  # fmt: skip
    record = create_record(session=session, kind=kind, actor=actor, new=NewRecord(
        title=submission.title or template.title, topic=submission.topic,
        features=submission.features, details=details,
    ))  # fmt: skip
    hazard_kind = get_kind("hazard")
    # a unit's own self-check hands the hazards it finds to the unit to rectify
    fixers = [{"type": "unit", "id": actor.scope.id}] if actor.scope.kind is ScopeKind.UNIT else []
    hazards = []
    items = template.schema.get("properties", {})
    for name, rule in hazards_for(template, score):
        item = str(items.get(name, {}).get("title") or name)  # the item as the form words it
        details = {"level": rule.level, "category": rule.category.value,
                   "description": f"{kind.title}未通过项: {item}", "assignees": fixers}  # fmt: skip
        found = NewRecord(title=f"{template.title}: {item}"[:200], topic=submission.topic,
                          features=submission.features, details=details)  # fmt: skip
        hazards.append(create_record(session=session, kind=hazard_kind, new=found, actor=actor))
    record.details = {**record.details, "hazards": [h.id for h in hazards]}
    return record, hazards
