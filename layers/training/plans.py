"""Training plans (培训计划): published courses the units of industries, or named units, must
pass by a deadline.

A plan belongs to its author's jurisdiction and reaches only the units inside it. Its
assignments (one row per course and unit) are written out whenever the plan is written,
and the compliance of every unit that gained or lost one is recounted in the same
transaction (``layers.training.compliance``). Withdrawing a plan removes its
assignments; the certificates its learners earned stay.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import delete, func, literal, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from layers.accounts.scope import Actor
from layers.audit.service import audited_denials, record_audit
from layers.errors import InvalidInput, PermissionDenied
from layers.features.models import Unit
from layers.training.compliance import recount_units
from layers.training.courses import check_version
from layers.training.models import (
    PLAN_STATES,
    TrainingAssignment,
    TrainingCourse,
    TrainingIndustry,
    TrainingPlan,
    TrainingPlanCourse,
)
from layers.training.owners import (
    Owner,
    may_manage,
    owner_of,
    read_seen,
    require_staff,
    seen_by,
    units_of,
)
from layers.values import storable_text

__all__ = [
    "NewPlan",
    "create_plan",
    "list_plans",
    "plan_courses",
    "read_plan",
    "units_reached",
    "update_plan",
]

MAX_TARGET_UNITS = 5_000


@dataclass(frozen=True)
class NewPlan:
    """A plan as staff write it: its courses, the industries and units it reaches, a deadline."""

    title: str
    course_ids: Sequence[int]
    deadline: date
    industries: Sequence[str] = ()
    unit_ids: Sequence[int] = ()


def _snapshot(plan: TrainingPlan, course_ids: list[int]) -> dict[str, Any]:
    return {"title": plan.title, "state": plan.state, "deadline": plan.deadline.isoformat(),
            "industries": list(plan.industries), "unit_ids": list(plan.unit_ids),
            "course_ids": course_ids, "version": plan.version}  # fmt: skip


def plan_courses(session: Session, plan_id: int) -> list[int]:
    """Return the ids of a plan's courses."""
    return list(session.scalars(select(TrainingPlanCourse.course_id).where(
        TrainingPlanCourse.plan_id == plan_id).order_by(TrainingPlanCourse.course_id)))  # fmt: skip


def _check_targets(session: Session, actor: Actor, owner: Owner, plan: NewPlan) -> None:
    """Raise ``InvalidInput`` naming every course, industry or unit the plan may not use."""
    problems: list[str] = []
    if not plan.course_ids:
        problems.append("name at least one course")
    if not plan.industries and not plan.unit_ids:
        problems.append("name the industries or units the plan reaches")
    if len(plan.unit_ids) > MAX_TARGET_UNITS:
        problems.append(f"a plan names at most {MAX_TARGET_UNITS:,} units")
    usable = set(session.scalars(select(TrainingCourse.id).where(
        TrainingCourse.id.in_(plan.course_ids), TrainingCourse.state == "published",
        seen_by(session, actor, TrainingCourse))))  # fmt: skip
    if bad := sorted(set(plan.course_ids) - usable):
        problems.append(f"courses {bad} are not published courses you may use")
    known = set(session.scalars(select(TrainingIndustry.code)))
    if bad_industries := sorted(set(plan.industries) - known):
        problems.append(f"industries {bad_industries} do not exist (GET /api/training/industries)")
    inside = set(session.scalars(select(Unit.id).where(Unit.id.in_(plan.unit_ids),
                                                       units_of(owner))))  # fmt: skip
    if bad_units := sorted(set(plan.unit_ids) - inside):
        problems.append(f"units {bad_units} are not units of the plan's jurisdiction")
    if problems:
        raise InvalidInput("; ".join(problems), problems=problems)


def _assign(session: Session, plan: TrainingPlan) -> set[int]:
    """Write out the plan's assignments afresh; return every unit that gained or lost one."""
    before = set(session.scalars(delete(TrainingAssignment).where(
        TrainingAssignment.plan_id == plan.id).returning(TrainingAssignment.unit_id)))  # fmt: skip
    if plan.state != "active":
        return before
    owner = Owner(plan.district_id, plan.precinct_id)
    reached = (Unit.category.in_(plan.industries)) | (Unit.id.in_(plan.unit_ids))
    rows = (
        select(literal(plan.id), TrainingPlanCourse.course_id, Unit.id)
        .join(TrainingPlanCourse, TrainingPlanCourse.plan_id == plan.id)
        .where(reached, units_of(owner))
    )
    written = insert(TrainingAssignment).from_select(["plan_id", "course_id", "unit_id"], rows)
    after = set(session.scalars(written.returning(TrainingAssignment.unit_id)))
    return before | after


def _set_courses(session: Session, plan: TrainingPlan, course_ids: Sequence[int]) -> None:
    session.execute(delete(TrainingPlanCourse).where(TrainingPlanCourse.plan_id == plan.id))
    session.add_all(TrainingPlanCourse(plan_id=plan.id, course_id=c) for c in set(course_ids))
    session.flush()


def create_plan(*, session: Session, plan: NewPlan, actor: Actor) -> TrainingPlan:
    """Write a plan in the actor's jurisdiction, assign its courses, recount the units; audited."""
    with audited_denials(session, actor, "training.plan.create", "training_plan", None):
        require_staff(actor)
    owner = owner_of(session, actor)
    _check_targets(session, actor, owner, plan)
    row = TrainingPlan(
        title=storable_text(plan.title, "the title"), industries=sorted(set(plan.industries)),
        unit_ids=sorted(set(plan.unit_ids)), deadline=plan.deadline, state="active", version=1,
        district_id=owner.district_id, precinct_id=owner.precinct_id,
        created_by=actor.user_id, creator_name=actor.username,
    )  # fmt: skip
    session.add(row)
    session.flush()
    _set_courses(session, row, plan.course_ids)
    recount_units(session, _assign(session, row))
    record_audit(session, actor=actor, action="training.plan.create", target_type="training_plan",
                 target_id=row.id, detail=row.title,
                 after=_snapshot(row, plan_courses(session, row.id)))  # fmt: skip
    return row


def read_plan(*, session: Session, plan_id: int, actor: Actor) -> TrainingPlan:
    """Return a plan the staff member sees (their jurisdiction, the district, the city)."""
    plan: TrainingPlan = read_seen(session, actor, TrainingPlan, plan_id, "plan")
    return plan


def list_plans(*, session: Session, actor: Actor) -> list[TrainingPlan]:
    """Return the plans the staff member sees, newest first."""
    require_staff(actor)
    return list(session.scalars(select(TrainingPlan).where(
        seen_by(session, actor, TrainingPlan)).order_by(TrainingPlan.id.desc())))  # fmt: skip


def update_plan(
    *, session: Session, plan_id: int, fields: dict[str, Any], expected_version: int | None,
    actor: Actor,
) -> TrainingPlan:  # fmt: skip
    """Edit or withdraw a plan of the actor's jurisdiction at its version; reassign; audited."""
    with audited_denials(session, actor, "training.plan.update", "training_plan", plan_id):
        row = read_plan(session=session, plan_id=plan_id, actor=actor)
        if not may_manage(actor, row):
            raise PermissionDenied(f"plan {plan_id} belongs to another jurisdiction")
    session.refresh(row, with_for_update=True)
    check_version(row, "plan", expected_version)
    if "state" in fields and fields["state"] not in PLAN_STATES:
        raise InvalidInput(f"a plan's state is one of {', '.join(PLAN_STATES)}")
    courses = plan_courses(session, row.id)
    before = _snapshot(row, courses)
    merged = NewPlan(
        title=fields.get("title", row.title), course_ids=fields.get("course_ids", courses),
        deadline=fields.get("deadline", row.deadline),
        industries=fields.get("industries", row.industries),
        unit_ids=fields.get("unit_ids", row.unit_ids),
    )  # fmt: skip
    state = fields.get("state", row.state)
    if state == "active":  # a plan withdrawn keeps what it named, usable or not
        _check_targets(session, actor, Owner(row.district_id, row.precinct_id), merged)
    row.title = storable_text(merged.title, "the title")
    row.deadline, row.state = merged.deadline, state
    row.industries, row.unit_ids = sorted(set(merged.industries)), sorted(set(merged.unit_ids))
    row.version += 1
    row.updated_at = datetime.now(UTC)
    _set_courses(session, row, merged.course_ids)
    recount_units(session, _assign(session, row))
    record_audit(session, actor=actor, action="training.plan.update", target_type="training_plan",
                 target_id=row.id, detail=row.title, before=before,
                 after=_snapshot(row, plan_courses(session, row.id)))  # fmt: skip
    return row


def units_reached(session: Session, plan_id: int) -> int:
    """Return how many units a plan's assignments reach."""
    reached = select(func.count(func.distinct(TrainingAssignment.unit_id)))
    return int(session.scalar(reached.where(TrainingAssignment.plan_id == plan_id)) or 0)
