"""Industries (行业), organisations (机构: the units being trained) and training notices.

Industries are the units' categories with their Chinese names. Organisations are the
units the staff member sees, each with its training compliance. A training notice goes
to the units of its author's jurisdiction, of some industries or all; a learner reads
those reaching their unit, staff those they see (``layers.training.owners``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from layers.accounts.scope import Actor
from layers.audit.service import audited_denials, record_audit
from layers.errors import InvalidInput
from layers.features.models import Unit
from layers.training.models import TrainingIndustry, TrainingNotice, UnitTraining
from layers.training.owners import STAFF, learner_unit, owner_of, require_staff, seen_by
from layers.values import storable_text

__all__ = ["Organisation", "industries", "list_notices", "organisations", "post_notice"]


@dataclass(frozen=True)
class Organisation:
    """A unit being trained, with its compliance (None: nothing assigned)."""

    unit: Unit
    training: UnitTraining | None


def industries(*, session: Session, actor: Actor) -> list[tuple[TrainingIndustry, int]]:
    """Return every industry with how many of its units the actor sees."""
    counted = (
        select(Unit.category, func.count().label("units")).where(actor.scope.clause(Unit))
        .group_by(Unit.category).subquery()
    )  # fmt: skip
    rows = session.execute(
        select(TrainingIndustry, func.coalesce(counted.c.units, 0))
        .outerjoin(counted, counted.c.category == TrainingIndustry.code)
        .order_by(TrainingIndustry.code)
    ).all()  # fmt: skip
    return [(industry, int(units)) for industry, units in rows]


def organisations(
    *, session: Session, actor: Actor, industry: str | None, after: int | None, limit: int
) -> list[Organisation]:
    """Return a page of the units the staff member sees (of ``industry``), by id."""
    require_staff(actor)
    query = (
        select(Unit, UnitTraining).outerjoin(UnitTraining, UnitTraining.unit_id == Unit.id)
        .where(actor.scope.clause(Unit)).order_by(Unit.id).limit(limit)
    )  # fmt: skip
    if industry is not None:
        query = query.where(Unit.category == industry)
    if after is not None:
        query = query.where(Unit.id > after)
    return [Organisation(unit, training) for unit, training in session.execute(query).all()]


def post_notice(
    *, session: Session, title: str, body: str, industries: Sequence[str], actor: Actor
) -> TrainingNotice:
    """Post a training notice to the units of the actor's jurisdiction; audited."""
    with audited_denials(session, actor, "training.notice.create", "training_notice", None):
        require_staff(actor)
    known = set(session.scalars(select(TrainingIndustry.code)))
    if unknown := sorted(set(industries) - known):
        raise InvalidInput(f"industries {unknown} do not exist (GET /api/training/industries)")
    owner = owner_of(session, actor)
    notice = TrainingNotice(
        title=storable_text(title, "the title"), body=storable_text(body, "the body"),
        industries=sorted(set(industries)), district_id=owner.district_id,
        precinct_id=owner.precinct_id, created_by=actor.user_id, creator_name=actor.username,
    )  # fmt: skip
    session.add(notice)
    session.flush()
    record_audit(session, actor=actor, action="training.notice.create",
                 target_type="training_notice", target_id=notice.id, detail=notice.title,
                 after={"industries": notice.industries})  # fmt: skip
    return notice


def list_notices(*, session: Session, actor: Actor, limit: int) -> list[TrainingNotice]:
    """Return the newest training notices the actor reads: staff theirs, a learner their unit's."""
    query = select(TrainingNotice).order_by(TrainingNotice.id.desc()).limit(limit)
    if actor.role in STAFF:
        return list(session.scalars(query.where(seen_by(session, actor, TrainingNotice))))
    unit = session.get_one(Unit, learner_unit(actor))
    reaches = or_(TrainingNotice.district_id.is_(None),
                  TrainingNotice.district_id == unit.district_id)  # fmt: skip
    inside = or_(TrainingNotice.precinct_id.is_(None),
                 TrainingNotice.precinct_id == unit.precinct_id)  # fmt: skip
    industry = or_(TrainingNotice.industries == [],
                   TrainingNotice.industries.contains([unit.category]))  # fmt: skip
    return list(session.scalars(query.where(reaches, inside, industry)))
