"""Schemas of security training: resources, courses and quizzes, plans, learning, statistics."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from layers.training.courses import NewCourse
from layers.training.learning import Assigned, Attempted
from layers.training.models import (
    TrainingCertificate,
    TrainingCourse,
    TrainingNotice,
    TrainingPlan,
    TrainingResource,
    UnitTraining,
)
from layers.training.plans import NewPlan
from layers.training.quiz import Question, without_answers

Industry = Annotated[str, StringConstraints(min_length=1, max_length=32)]
CourseState = Literal["draft", "published", "retired"]


class ResourcePublic(BaseModel):
    """A document or video of the library: what it is, its size and SM3, where to read it."""

    id: int
    title: str
    kind: str
    name: str
    media_type: str
    size_bytes: int
    sm3: str
    created_by: str
    created_at: datetime
    url: str

    @classmethod
    def of(cls, resource: TrainingResource) -> ResourcePublic:
        """Return the public view of a stored resource."""
        return cls(
            id=resource.id, title=resource.title, kind=resource.kind, name=resource.name,
            media_type=resource.media_type, size_bytes=resource.size_bytes, sm3=resource.sm3,
            created_by=resource.creator_name, created_at=resource.created_at,
            url=f"/api/training/resources/{resource.id}/content",
        )  # fmt: skip


class ResourcesPublic(BaseModel):
    """Resources of the library, newest first."""

    data: list[ResourcePublic]
    count: int


class QuestionIn(BaseModel):
    """A quiz question: its choices and which of them (from 0) are right."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=32)
    text: str = Field(min_length=1, max_length=2000)
    choices: list[Annotated[str, StringConstraints(min_length=1, max_length=500)]] = Field(
        min_length=2, max_length=10
    )
    answers: list[int] = Field(min_length=1, max_length=10)
    points: int = Field(default=1, ge=1, le=100)

    def to_domain(self) -> Question:
        """Return the domain's question."""
        return Question(self.id, self.text, tuple(self.choices), frozenset(self.answers),
                        self.points)  # fmt: skip


class CourseCreate(BaseModel):
    """A new course: its resources in order, its quiz and pass mark (percent)."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    summary: str | None = Field(default=None, max_length=5000)
    state: CourseState = "draft"
    pass_mark: int = Field(ge=0, le=100)
    resource_ids: list[int] = Field(default_factory=list, max_length=100)
    questions: list[QuestionIn] = Field(min_length=1, max_length=200)

    def to_domain(self) -> NewCourse:
        """Return the domain's description of the course."""
        return NewCourse(
            title=self.title, summary=self.summary, state=self.state, pass_mark=self.pass_mark,
            resource_ids=self.resource_ids, questions=[q.to_domain() for q in self.questions],
        )  # fmt: skip


class CourseUpdate(BaseModel):
    """What an edit of a course changes; a new quiz or pass mark is a new quiz version."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, min_length=1, max_length=200)
    summary: str | None = Field(default=None, max_length=5000)
    state: CourseState | None = None
    pass_mark: int | None = Field(default=None, ge=0, le=100)
    resource_ids: list[int] | None = Field(default=None, max_length=100)
    questions: list[QuestionIn] | None = Field(default=None, min_length=1, max_length=200)

    def fields(self) -> dict[str, Any]:
        """Return the fields the edit gives (a null keeps the field, but clears the summary)."""
        given = {k: v for k, v in self.model_dump(exclude_unset=True, exclude={"questions"}).items()
                 if v is not None or k == "summary"}  # fmt: skip
        if self.questions is not None:
            given["questions"] = [q.to_domain() for q in self.questions]
        return given


class CoursePublic(BaseModel):
    """A course as staff read it: its resources, its quiz with the right answers."""

    id: int
    title: str
    summary: str | None
    state: str
    pass_mark: int
    quiz_version: int
    version: int
    questions: list[dict[str, Any]]
    resources: list[ResourcePublic]
    district_id: int | None
    precinct_id: int | None
    created_by: str
    updated_at: datetime

    @classmethod
    def of(
        cls, course: TrainingCourse, resources: list[TrainingResource], *, answers: bool = True
    ) -> CoursePublic:
        """Return the course; without the right answers unless ``answers``."""
        questions = course.questions if answers else without_answers(course.questions)
        return cls(
            id=course.id, title=course.title, summary=course.summary, state=course.state,
            pass_mark=course.pass_mark, quiz_version=course.quiz_version,
            version=course.version, questions=questions,
            resources=[ResourcePublic.of(r) for r in resources],
            district_id=course.district_id, precinct_id=course.precinct_id,
            created_by=course.creator_name, updated_at=course.updated_at,
        )  # fmt: skip


class CourseSummary(BaseModel):
    """A course in a list."""

    id: int
    title: str
    state: str
    pass_mark: int
    version: int

    @classmethod
    def of(cls, course: TrainingCourse) -> CourseSummary:
        """Return a course's line in a list."""
        return cls(id=course.id, title=course.title, state=course.state,
                   pass_mark=course.pass_mark, version=course.version)  # fmt: skip


class CoursesPublic(BaseModel):
    """Courses, newest first."""

    data: list[CourseSummary]
    count: int


class PlanCreate(BaseModel):
    """A new plan: published courses, the industries and/or units it reaches, a deadline."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    course_ids: list[int] = Field(min_length=1, max_length=100)
    deadline: date
    industries: list[Industry] = Field(default_factory=list, max_length=20)
    unit_ids: list[int] = Field(default_factory=list, max_length=5000)

    def to_domain(self) -> NewPlan:
        """Return the domain's description of the plan."""
        return NewPlan(title=self.title, course_ids=self.course_ids, deadline=self.deadline,
                       industries=self.industries, unit_ids=self.unit_ids)  # fmt: skip


class PlanUpdate(BaseModel):
    """What an edit of a plan changes; ``state: withdrawn`` withdraws it."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, min_length=1, max_length=200)
    course_ids: list[int] | None = Field(default=None, min_length=1, max_length=100)
    deadline: date | None = None
    industries: list[Industry] | None = Field(default=None, max_length=20)
    unit_ids: list[int] | None = Field(default=None, max_length=5000)
    state: Literal["active", "withdrawn"] | None = None

    def fields(self) -> dict[str, Any]:
        """Return the fields the edit gives (a null keeps the field as it is)."""
        return self.model_dump(exclude_unset=True, exclude_none=True)


class PlanPublic(BaseModel):
    """A plan: what it asks of whom by when, and how many units it reaches."""

    id: int
    title: str
    state: str
    deadline: date
    industries: list[str]
    unit_ids: list[int]
    course_ids: list[int]
    units_reached: int
    version: int
    district_id: int | None
    precinct_id: int | None
    created_by: str

    @classmethod
    def of(cls, plan: TrainingPlan, course_ids: list[int], reached: int) -> PlanPublic:
        """Return the public view of a plan."""
        return cls(
            id=plan.id, title=plan.title, state=plan.state, deadline=plan.deadline,
            industries=plan.industries, unit_ids=plan.unit_ids, course_ids=course_ids,
            units_reached=reached, version=plan.version, district_id=plan.district_id,
            precinct_id=plan.precinct_id, created_by=plan.creator_name,
        )  # fmt: skip


class PlansPublic(BaseModel):
    """Plans, newest first."""

    data: list[PlanPublic]
    count: int


class IndustryPublic(BaseModel):
    """An industry and how many of its units the caller sees."""

    code: str
    name: str
    units: int


class IndustriesPublic(BaseModel):
    """Every industry."""

    data: list[IndustryPublic]


class CompliancePublic(BaseModel):
    """A unit's training: courses assigned, passed, and the next deadline of one not passed."""

    assigned: int
    passed: int
    due: date | None

    @classmethod
    def of(cls, row: UnitTraining | None) -> CompliancePublic | None:
        """Return a unit's compliance, None when nothing is assigned to it."""
        return None if row is None else cls(assigned=row.assigned, passed=row.passed, due=row.due)


class OrganisationPublic(BaseModel):
    """A unit being trained."""

    id: int
    name: str
    industry: str
    precinct_id: int | None
    training: CompliancePublic | None


class OrganisationsPublic(BaseModel):
    """A page of units by id; ``next`` is the ``after`` of the next page."""

    data: list[OrganisationPublic]
    next: int | None


class CompletionPublic(BaseModel):
    """One group's completion figures."""

    key: str | int | None
    name: str | None
    units: int
    compliant_units: int
    assignments: int
    passed: int
    overdue: int


class CompletionsPublic(BaseModel):
    """Completion per unit, precinct or industry."""

    group_by: str
    today: date
    data: list[CompletionPublic]


class NoticeCreate(BaseModel):
    """A training notice to the units of some industries (none: every unit) in your area."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=20_000)
    industries: list[Industry] = Field(default_factory=list, max_length=20)


class NoticePublic(BaseModel):
    """A training notice."""

    id: int
    title: str
    body: str
    industries: list[str]
    created_by: str
    created_at: datetime

    @classmethod
    def of(cls, notice: TrainingNotice) -> NoticePublic:
        """Return the public view of a notice."""
        return cls(id=notice.id, title=notice.title, body=notice.body,
                   industries=notice.industries, created_by=notice.creator_name,
                   created_at=notice.created_at)  # fmt: skip


class NoticesPublic(BaseModel):
    """Training notices, newest first."""

    data: list[NoticePublic]


class CertificatePublic(BaseModel):
    """A certificate: who passed which course, with what score, when."""

    id: int
    number: str
    course_id: int
    unit_id: int
    learner: str
    score: int
    issued_at: datetime

    @classmethod
    def of(cls, certificate: TrainingCertificate) -> CertificatePublic:
        """Return the public view of a certificate."""
        return cls(id=certificate.id, number=certificate.number, course_id=certificate.course_id,
                   unit_id=certificate.unit_id, learner=certificate.learner_name,
                   score=certificate.score, issued_at=certificate.issued_at)  # fmt: skip


class CertificatesPublic(BaseModel):
    """A learner's certificates, newest first."""

    data: list[CertificatePublic]


class AssignmentPublic(BaseModel):
    """A course assigned to the learner's unit, and the learner's standing in it."""

    course_id: int
    title: str
    deadline: date
    pass_mark: int
    viewed: list[int]
    attempts: int
    best_score: int | None
    passed: bool
    certificate: CertificatePublic | None

    @classmethod
    def of(cls, assigned: Assigned) -> AssignmentPublic:
        """Return the public view of an assignment."""
        progress, certificate = assigned.progress, assigned.certificate
        return cls(
            course_id=assigned.course.id, title=assigned.course.title,
            deadline=assigned.deadline, pass_mark=assigned.course.pass_mark,
            viewed=progress.viewed if progress else [],
            attempts=progress.attempts if progress else 0,
            best_score=progress.best_score if progress else None,
            passed=certificate is not None,
            certificate=CertificatePublic.of(certificate) if certificate else None,
        )  # fmt: skip


class AssignmentsPublic(BaseModel):
    """The learner's courses, earliest deadline first."""

    data: list[AssignmentPublic]


class LearnerCoursePublic(BaseModel):
    """A course as a learner reads it: no right answers."""

    course: CoursePublic
    assignment: AssignmentPublic


class ViewedIn(BaseModel):
    """A resource of the course the learner opened."""

    model_config = ConfigDict(extra="forbid")

    resource_id: int


class AttemptIn(BaseModel):
    """Answers to a quiz version: question id to the chosen choices (from 0)."""

    model_config = ConfigDict(extra="forbid")

    quiz_version: int = Field(ge=1)
    answers: dict[Annotated[str, StringConstraints(max_length=32)], list[int]] = Field(
        max_length=200
    )


class AttemptPublic(BaseModel):
    """A graded attempt: score, pass mark, passed, which questions were right, the certificate."""

    attempt_id: int
    score: int
    pass_mark: int
    passed: bool
    right: dict[str, bool]
    certificate: CertificatePublic | None

    @classmethod
    def of(cls, attempted: Attempted, pass_mark: int) -> AttemptPublic:
        """Return the public view of a graded attempt."""
        certificate = attempted.certificate
        return cls(
            attempt_id=attempted.attempt.id, score=attempted.graded.score, pass_mark=pass_mark,
            passed=attempted.graded.passed, right=attempted.graded.right,
            certificate=CertificatePublic.of(certificate) if certificate else None,
        )  # fmt: skip
