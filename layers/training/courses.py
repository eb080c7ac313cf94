"""The course centre (课程中心): courses of documents and videos with a quiz and a pass mark.

Staff write courses in their jurisdiction (``layers.training.owners``); every write is
audited and bumps the course's version, and an edit needs the version it replaces
(If-Match). A change of the questions or the pass mark is a new quiz version: an attempt
sent against the old one is refused. A course is a ``draft`` until ``published`` (only
published courses go into plans) and may be ``retired``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from layers.accounts.scope import Actor
from layers.audit.service import audited_denials, record_audit
from layers.errors import (
    InvalidInput,
    PermissionDenied,
    PreconditionRequired,
    VersionConflict,
)
from layers.training.models import (
    COURSE_STATES,
    TrainingCourse,
    TrainingCourseResource,
    TrainingResource,
)
from layers.training.owners import may_manage, owner_of, read_seen, require_staff, seen_by
from layers.training.quiz import Question, parse_questions
from layers.values import storable_text

__all__ = [
    "CourseChange",
    "NewCourse",
    "check_version",
    "course_resources",
    "create_course",
    "list_courses",
    "read_course",
    "update_course",
]

MAX_RESOURCES = 100


@dataclass(frozen=True)
class NewCourse:
    """A course as staff write it."""

    title: str
    pass_mark: int
    questions: Sequence[Question]
    resource_ids: Sequence[int]
    summary: str | None = None
    state: str = "draft"


@dataclass(frozen=True)
class CourseChange:
    """What an edit changes: the fields given, the rest as they are."""

    fields: dict[str, Any] = field(default_factory=dict)


def check_version(thing: Any, what: str, expected: int | None) -> None:
    """Raise 428 without the version an edit replaces, 412 when it is not the current one."""
    if expected is None:
        raise PreconditionRequired(f"editing a {what} needs the version it replaces "
                                   "(If-Match header)")  # fmt: skip
    if thing.version != expected:
        raise VersionConflict(f"{what} {thing.id} is at version {thing.version}, not {expected}; "
                              "reload it and try again", current_version=thing.version)  # fmt: skip


def _snapshot(course: TrainingCourse, resource_ids: list[int]) -> dict[str, Any]:
    return {"title": course.title, "state": course.state, "pass_mark": course.pass_mark,
            "questions": len(course.questions), "quiz_version": course.quiz_version,
            "resource_ids": resource_ids, "version": course.version}  # fmt: skip


def _checked_state(state: str) -> str:
    if state not in COURSE_STATES:
        raise InvalidInput(f"a course's state is one of {', '.join(COURSE_STATES)}, not {state!r}")
    return state


def _set_resources(session: Session, course: TrainingCourse, resource_ids: Sequence[int]) -> None:
    if len(resource_ids) > MAX_RESOURCES:
        raise InvalidInput(f"a course has at most {MAX_RESOURCES} resources")
    if len(set(resource_ids)) != len(resource_ids):
        raise InvalidInput("a resource appears twice in the course")
    known = set(session.scalars(select(TrainingResource.id).where(
        TrainingResource.id.in_(resource_ids))))  # fmt: skip
    missing = [r for r in resource_ids if r not in known]
    if missing:
        raise InvalidInput(f"there are no resources {missing} in the library")
    session.execute(delete(TrainingCourseResource).where(
        TrainingCourseResource.course_id == course.id))  # fmt: skip
    session.add_all(TrainingCourseResource(course_id=course.id, position=n, resource_id=r)
                    for n, r in enumerate(resource_ids))  # fmt: skip
    session.flush()


def course_resources(session: Session, course_id: int) -> list[TrainingResource]:
    """Return a course's resources in order."""
    return list(session.scalars(
        select(TrainingResource).join(TrainingCourseResource,
                                      TrainingCourseResource.resource_id == TrainingResource.id)
        .where(TrainingCourseResource.course_id == course_id)
        .order_by(TrainingCourseResource.position)
    ))  # fmt: skip


def create_course(*, session: Session, course: NewCourse, actor: Actor) -> TrainingCourse:
    """Write a course in the actor's jurisdiction; audited."""
    with audited_denials(session, actor, "training.course.create", "training_course", None):
        require_staff(actor)
    if not 0 <= course.pass_mark <= 100:
        raise InvalidInput(f"the pass mark is a percentage 0-100, not {course.pass_mark}")
    owner = owner_of(session, actor)
    row = TrainingCourse(
        title=storable_text(course.title, "the title"),
        summary=storable_text(course.summary, "the summary") if course.summary else None,
        state=_checked_state(course.state), pass_mark=course.pass_mark,
        questions=parse_questions(course.questions), quiz_version=1, version=1,
        district_id=owner.district_id, precinct_id=owner.precinct_id,
        created_by=actor.user_id, creator_name=actor.username,
    )  # fmt: skip
    session.add(row)
    session.flush()
    _set_resources(session, row, course.resource_ids)
    record_audit(session, actor=actor, action="training.course.create",
                 target_type="training_course", target_id=row.id, detail=row.title,
                 after=_snapshot(row, list(course.resource_ids)))  # fmt: skip
    return row


def read_course(*, session: Session, course_id: int, actor: Actor) -> TrainingCourse:
    """Return a course the staff member sees (their jurisdiction, the district, the city)."""
    course: TrainingCourse = read_seen(session, actor, TrainingCourse, course_id, "course")
    return course


def list_courses(
    *, session: Session, actor: Actor, state: str | None = None
) -> list[TrainingCourse]:
    """Return the courses the staff member sees (in ``state``), newest first."""
    require_staff(actor)
    query = select(TrainingCourse).where(seen_by(session, actor, TrainingCourse))
    if state is not None:
        query = query.where(TrainingCourse.state == _checked_state(state))
    return list(session.scalars(query.order_by(TrainingCourse.id.desc())))


def update_course(
    *, session: Session, course_id: int, change: CourseChange, expected_version: int | None,
    actor: Actor,
) -> TrainingCourse:  # fmt: skip
    """Edit a course of the actor's jurisdiction at its version; a new quiz bumps the quiz."""
    with audited_denials(session, actor, "training.course.update", "training_course", course_id):
        row = read_course(session=session, course_id=course_id, actor=actor)
        if not may_manage(actor, row):
            raise PermissionDenied(f"course {course_id} belongs to another jurisdiction: "
                                   "read it, do not edit it")  # fmt: skip
    session.refresh(row, with_for_update=True)
    check_version(row, "course", expected_version)
    before = _snapshot(row, [r.id for r in course_resources(session, row.id)])
    fields = change.fields
    if "title" in fields:
        row.title = storable_text(fields["title"], "the title")
    if "summary" in fields:
        row.summary = storable_text(fields["summary"], "the summary") if fields["summary"] else None
    if "state" in fields:
        row.state = _checked_state(fields["state"])
    if "pass_mark" in fields or "questions" in fields:
        if "questions" in fields:
            row.questions = parse_questions(fields["questions"])
        row.pass_mark = fields.get("pass_mark", row.pass_mark)
        row.quiz_version += 1
    if "resource_ids" in fields:
        _set_resources(session, row, fields["resource_ids"])
    row.version += 1
    row.updated_at = datetime.now(UTC)
    session.flush()
    record_audit(session, actor=actor, action="training.course.update",
                 target_type="training_course", target_id=row.id, detail=row.title,
                 before=before, after=_snapshot(row, [r.id for r in course_resources(
                     session, row.id)]))  # fmt: skip
    return row
