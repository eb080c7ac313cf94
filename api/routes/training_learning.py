"""The learning centre: a unit user's courses, progress, quiz attempts and certificates.

These are the learner-facing training routes; the unit portal serves them too.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from api.access import TRAINING_LEARNERS
from api.deps import CurrentActor, SessionDep
from api.schemas.training import (
    AssignmentPublic,
    AssignmentsPublic,
    AttemptIn,
    AttemptPublic,
    CertificatePublic,
    CertificatesPublic,
    CoursePublic,
    LearnerCoursePublic,
    ViewedIn,
)
from layers.training.courses import course_resources
from layers.training.learning import (
    learner_course,
    mark_viewed,
    my_assignments,
    my_certificates,
    submit_attempt,
)

PREFIX = "/api/training/learning"
router = APIRouter(prefix=PREFIX, tags=["training"], dependencies=[Depends(TRAINING_LEARNERS)])


@router.get("")
def list_my_courses(session: SessionDep, actor: CurrentActor) -> AssignmentsPublic:
    """Return the courses assigned to your unit, earliest deadline first, with your standing."""
    found = my_assignments(session=session, actor=actor)
    return AssignmentsPublic(data=[AssignmentPublic.of(a) for a in found])


@router.get("/courses/{course_id}")
def read_my_course(course_id: int, session: SessionDep, actor: CurrentActor) -> LearnerCoursePublic:
    """Return a course assigned to your unit: its resources and quiz, without the answers."""
    assigned = learner_course(session=session, course_id=course_id, actor=actor)
    course = CoursePublic.of(assigned.course, course_resources(session, course_id), answers=False)
    return LearnerCoursePublic(course=course, assignment=AssignmentPublic.of(assigned))


@router.post("/courses/{course_id}/viewed")
def create_my_progress(
    course_id: int, body: ViewedIn, session: SessionDep, actor: CurrentActor
) -> AssignmentPublic:
    """Note that you opened one of the course's resources; return your standing."""
    mark_viewed(session=session, course_id=course_id, resource_id=body.resource_id, actor=actor)
    return AssignmentPublic.of(learner_course(session=session, course_id=course_id, actor=actor))


@router.post("/courses/{course_id}/attempts", status_code=201)
def create_my_attempt(
    course_id: int, body: AttemptIn, session: SessionDep, actor: CurrentActor
) -> AttemptPublic:
    """Answer the course's quiz (its current version); graded here, a pass earns a certificate."""
    attempted = submit_attempt(session=session, course_id=course_id,
                               quiz_version=body.quiz_version, answers=body.answers,
                               actor=actor)  # fmt: skip
    pass_mark = learner_course(session=session, course_id=course_id, actor=actor).course.pass_mark
    return AttemptPublic.of(attempted, pass_mark)


@router.get("/certificates")
def list_my_certificates(session: SessionDep, actor: CurrentActor) -> CertificatesPublic:
    """Return your certificates, newest first."""
    found = my_certificates(session=session, actor=actor)
    return CertificatesPublic(data=[CertificatePublic.of(c) for c in found])
