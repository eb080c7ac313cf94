"""Each unit's training compliance, kept in ``unit_training`` for the map's tiles.

A unit is assigned a course by every active plan naming it or its industry; it has
passed the course once one of its users holds the course's certificate. Its row says how
many courses are assigned, how many passed, and the earliest deadline of those not
passed yet (None once all are). The row is recounted in the transaction of every write
that can change it (a plan written or withdrawn, a certificate issued); a unit with
nothing assigned has no row. Whether a deadline has passed is the reader's question
(today against ``due``), so no row goes stale as days pass.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, Subquery, and_, delete, exists, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from layers.training.models import (
    TrainingAssignment,
    TrainingCertificate,
    TrainingPlan,
    UnitTraining,
)

__all__ = ["passed_clause", "recount_units", "unit_courses"]


def passed_clause(unit_id: Any, course_id: Any) -> ColumnElement[bool]:
    """Return "a user of the unit holds the course's certificate" (SQL)."""
    return exists().where(
        TrainingCertificate.unit_id == unit_id, TrainingCertificate.course_id == course_id
    )


def unit_courses(*where: ColumnElement[bool]) -> Subquery:
    """Return each (unit, course) assigned by an active plan, with its earliest deadline."""
    return (
        select(TrainingAssignment.unit_id, TrainingAssignment.course_id,
               func.min(TrainingPlan.deadline).label("deadline"))
        .join(TrainingPlan, TrainingPlan.id == TrainingAssignment.plan_id)
        .where(TrainingPlan.state == "active", *where)
        .group_by(TrainingAssignment.unit_id, TrainingAssignment.course_id)
        .subquery("assigned")
    )  # fmt: skip


def recount_units(session: Session, unit_ids: Collection[int]) -> None:
    """Recount the compliance of ``unit_ids`` (rows whose counts are unchanged stay as they are)."""
    if not unit_ids:
        return
    ids = sorted(set(unit_ids))
    assigned = unit_courses(TrainingAssignment.unit_id.in_(ids))
    done = passed_clause(assigned.c.unit_id, assigned.c.course_id)
    counts = select(
        assigned.c.unit_id,
        func.count().label("assigned"),
        func.count().filter(done).label("passed"),
        func.min(assigned.c.deadline).filter(~done).label("due"),
    ).group_by(assigned.c.unit_id)
    upsert = insert(UnitTraining).from_select(["unit_id", "assigned", "passed", "due"], counts)
    changed = upsert.excluded
    session.execute(upsert.on_conflict_do_update(
        index_elements=[UnitTraining.unit_id],
        set_={"assigned": changed.assigned, "passed": changed.passed, "due": changed.due},
        where=func.row(UnitTraining.assigned, UnitTraining.passed, UnitTraining.due)
        .is_distinct_from(func.row(changed.assigned, changed.passed, changed.due)),
    ))  # fmt: skip
    still = select(assigned.c.unit_id)
    session.execute(delete(UnitTraining).where(
        and_(UnitTraining.unit_id.in_(ids), UnitTraining.unit_id.not_in(still))))  # fmt: skip
