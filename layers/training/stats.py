"""Training completion per unit, precinct or industry, over the units the staff member sees.

An assignment is a (unit, course) pair some active plan asks for (of one plan, with
``plan_id``); it is passed once a user of the unit holds the course's certificate, and
overdue when it is not passed and its earliest deadline is before today. A unit is
compliant when every one of its assignments is passed. One statement: assignments per
unit, then per group.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Integer, and_, case, cast, func, select
from sqlalchemy.orm import Session

from layers.accounts.scope import Actor
from layers.errors import InvalidInput
from layers.features.models import Precinct, Unit
from layers.training.compliance import passed_clause, unit_courses
from layers.training.models import TrainingAssignment, TrainingIndustry
from layers.training.owners import require_staff
from layers.training.plans import read_plan

__all__ = ["GROUPS", "CompletionRow", "completion"]

GROUPS = ("unit", "precinct", "industry")


@dataclass(frozen=True)
class CompletionRow:
    """One group's figures: units, compliant units, assignments, passed, overdue."""

    key: str | int | None
    name: str | None
    units: int
    compliant_units: int
    assignments: int
    passed: int
    overdue: int


def _key(group_by: str) -> tuple[Any, Any, Any, Any]:
    """Return the group's key, its name, and what to join for the name."""
    if group_by == "unit":
        return Unit.id, Unit.name, None, None
    if group_by == "precinct":
        return Unit.precinct_id, Precinct.name, Precinct, Precinct.id == Unit.precinct_id
    return Unit.category, TrainingIndustry.name, TrainingIndustry, (
        TrainingIndustry.code == Unit.category)  # fmt: skip


def completion(
    *, session: Session, actor: Actor, group_by: str, today: date, plan_id: int | None = None
) -> list[CompletionRow]:
    """Return the completion figures of the units the actor sees, per ``group_by``."""
    require_staff(actor)
    if group_by not in GROUPS:
        raise InvalidInput(f"group_by is one of {', '.join(GROUPS)}, not {group_by!r}")
    where = []
    if plan_id is not None:
        read_plan(session=session, plan_id=plan_id, actor=actor)  # 404 for one not seen
        where.append(TrainingAssignment.plan_id == plan_id)
    assigned = unit_courses(*where)
    done = passed_clause(assigned.c.unit_id, assigned.c.course_id)
    late = and_(~done, assigned.c.deadline < today)
    per_unit = (
        select(assigned.c.unit_id, func.count().label("assignments"),
               func.count().filter(done).label("passed"),
               func.count().filter(late).label("overdue"))
        .group_by(assigned.c.unit_id).subquery("per_unit")
    )  # fmt: skip
    key, name, named, on = _key(group_by)
    figures = (
        select(key.label("key"), name.label("name"), func.count().label("units"),
               func.count().filter(per_unit.c.passed == per_unit.c.assignments)
               .label("compliant_units"),
               cast(func.sum(per_unit.c.assignments), Integer).label("assignments"),
               cast(func.sum(per_unit.c.passed), Integer).label("passed"),
               cast(func.sum(per_unit.c.overdue), Integer).label("overdue"))
        .select_from(per_unit).join(Unit, Unit.id == per_unit.c.unit_id)
        .where(actor.scope.clause(Unit))
    )  # fmt: skip
    if named is not None:
        figures = figures.outerjoin(named, on)
    figures = figures.group_by(key, name).order_by(case((key.is_(None), 1), else_=0), key)
    return [CompletionRow(**row._mapping) for row in session.execute(figures)]
