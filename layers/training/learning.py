"""The learning centre (学习中心): a unit user's courses, progress, quizzes and certificates.

A learner sees the courses active plans assign to their unit, and nothing else (another
course is unknown: 404). They open every resource of a course, then take its quiz: the
answers are graded here against the quiz version they were given (an old version is a
409), each attempt is kept, and the first pass earns a certificate, which recounts the
unit's compliance. Every write is audited.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from layers.accounts.scope import Actor
from layers.audit.service import audited_denials, record_audit
from layers.errors import Conflict, InvalidInput, NotFound
from layers.training.compliance import recount_units, unit_courses
from layers.training.courses import course_resources
from layers.training.models import (
    TrainingAssignment,
    TrainingAttempt,
    TrainingCertificate,
    TrainingCourse,
    TrainingProgress,
)
from layers.training.owners import learner_unit
from layers.training.quiz import Graded, grade

__all__ = [
    "Assigned",
    "Attempted",
    "learner_course",
    "mark_viewed",
    "my_assignments",
    "my_certificates",
    "submit_attempt",
]


@dataclass(frozen=True)
class Assigned:
    """A course assigned to the learner's unit, its deadline, and the learner's standing."""

    course: TrainingCourse
    deadline: date
    progress: TrainingProgress | None
    certificate: TrainingCertificate | None


@dataclass(frozen=True)
class Attempted:
    """A graded attempt, and the certificate it earned (or the one held already)."""

    attempt: TrainingAttempt
    graded: Graded
    certificate: TrainingCertificate | None


def _learner(actor: Actor) -> tuple[int, int]:
    unit_id = learner_unit(actor)
    if actor.user_id is None:
        raise NotFound("there is no learner without an account")
    return actor.user_id, unit_id


def my_assignments(*, session: Session, actor: Actor) -> list[Assigned]:
    """Return the courses assigned to the learner's unit, earliest deadline first."""
    user_id, unit_id = _learner(actor)
    assigned = unit_courses(TrainingAssignment.unit_id == unit_id)
    rows = session.execute(
        select(TrainingCourse, assigned.c.deadline, TrainingProgress, TrainingCertificate)
        .join(assigned, assigned.c.course_id == TrainingCourse.id)
        .outerjoin(TrainingProgress, (TrainingProgress.course_id == TrainingCourse.id)
                   & (TrainingProgress.user_id == user_id))
        .outerjoin(TrainingCertificate, (TrainingCertificate.course_id == TrainingCourse.id)
                   & (TrainingCertificate.user_id == user_id))
        .order_by(assigned.c.deadline, TrainingCourse.id)
    ).all()  # fmt: skip
    return [Assigned(course, deadline, progress, certificate)
            for course, deadline, progress, certificate in rows]  # fmt: skip


def learner_course(*, session: Session, course_id: int, actor: Actor) -> Assigned:
    """Return a course assigned to the learner's unit with their standing; others are 404."""
    for assigned in my_assignments(session=session, actor=actor):
        if assigned.course.id == course_id:
            return assigned
    raise NotFound(f"there is no course {course_id} among your unit's assignments")


def _progress(session: Session, user_id: int, unit_id: int, course_id: int) -> TrainingProgress:
    """Return the learner's progress row of the course, locked (made on first use)."""
    session.execute(insert(TrainingProgress).values(
        user_id=user_id, course_id=course_id, unit_id=unit_id, viewed=[], attempts=0,
    ).on_conflict_do_nothing())  # fmt: skip
    return session.scalars(
        select(TrainingProgress).where(TrainingProgress.user_id == user_id,
                                       TrainingProgress.course_id == course_id)
        .with_for_update().execution_options(populate_existing=True)
    ).one()  # fmt: skip


def mark_viewed(
    *, session: Session, course_id: int, resource_id: int, actor: Actor
) -> TrainingProgress:
    """Note that the learner opened a resource of an assigned course; audited."""
    with audited_denials(session, actor, "training.progress", "training_course", course_id):
        user_id, unit_id = _learner(actor)
        course = learner_course(session=session, course_id=course_id, actor=actor).course
    if resource_id not in {r.id for r in course_resources(session, course.id)}:
        raise InvalidInput(f"resource {resource_id} is not part of course {course_id}")
    progress = _progress(session, user_id, unit_id, course.id)
    if resource_id not in progress.viewed:
        progress.viewed = [*progress.viewed, resource_id]
        progress.updated_at = datetime.now(UTC)
        session.flush()
        record_audit(session, actor=actor, action="training.progress",
                     target_type="training_course", target_id=course.id,
                     detail=f"resource {resource_id}",
                     after={"viewed": progress.viewed})  # fmt: skip
    return progress


def _certify(session: Session, actor: Actor, attempt: TrainingAttempt) -> TrainingCertificate:
    """Issue the certificate of a passing attempt, recount the unit; audited."""
    certificate = TrainingCertificate(
        number=f"PX{datetime.now(UTC):%Y}{attempt.id:010d}", user_id=attempt.user_id,
        learner_name=actor.username, unit_id=attempt.unit_id, course_id=attempt.course_id,
        attempt_id=attempt.id, score=attempt.score,
    )  # fmt: skip
    session.add(certificate)
    session.flush()
    recount_units(session, [attempt.unit_id])
    record_audit(session, actor=actor, action="training.certificate",
                 target_type="training_certificate", target_id=certificate.id,
                 detail=certificate.number,
                 after={"course_id": attempt.course_id, "unit_id": attempt.unit_id,
                        "score": attempt.score})  # fmt: skip
    return certificate


def submit_attempt(
    *, session: Session, course_id: int, quiz_version: int,
    answers: Mapping[str, Sequence[int]], actor: Actor,
) -> Attempted:  # fmt: skip
    """Grade the learner's answers to a course's quiz; a first pass earns the certificate."""
    with audited_denials(session, actor, "training.attempt", "training_course", course_id):
        user_id, unit_id = _learner(actor)
        standing = learner_course(session=session, course_id=course_id, actor=actor)
    course = standing.course
    if course.state != "published":
        raise Conflict(f"course {course_id} is {course.state}: its quiz is closed")
    if quiz_version != course.quiz_version:
        raise Conflict(f"the quiz of course {course_id} is at version {course.quiz_version}, "
                       f"not {quiz_version}: reload the course and answer again",
                       current_version=course.quiz_version)  # fmt: skip
    progress = _progress(session, user_id, unit_id, course.id)
    unopened = [r.id for r in course_resources(session, course.id) if r.id not in progress.viewed]
    if unopened:
        raise Conflict(f"open every part of the course before its quiz: resources {unopened} "
                       "are not opened yet", unopened=unopened)  # fmt: skip
    graded = grade(course.questions, answers, course.pass_mark)
    attempt = TrainingAttempt(
        user_id=user_id, unit_id=unit_id, course_id=course.id, quiz_version=quiz_version,
        answers={k: sorted(set(v)) for k, v in answers.items()}, score=graded.score,
        passed=graded.passed,
    )  # fmt: skip
    session.add(attempt)
    progress.attempts += 1
    progress.best_score = max(progress.best_score or 0, graded.score)
    progress.updated_at = datetime.now(UTC)
    session.flush()
    record_audit(session, actor=actor, action="training.attempt", target_type="training_course",
                 target_id=course.id, detail=f"score {graded.score}, pass mark {course.pass_mark}",
                 after={"attempt_id": attempt.id, "score": graded.score,
                        "passed": graded.passed})  # fmt: skip
    certificate = standing.certificate
    if graded.passed and certificate is None:
        progress.passed_at = datetime.now(UTC)
        certificate = _certify(session, actor, attempt)
    return Attempted(attempt, graded, certificate)


def my_certificates(*, session: Session, actor: Actor) -> list[TrainingCertificate]:
    """Return the learner's certificates, newest first."""
    user_id, _ = _learner(actor)
    mine = select(TrainingCertificate).where(TrainingCertificate.user_id == user_id)
    return list(session.scalars(mine.order_by(TrainingCertificate.id.desc())))
