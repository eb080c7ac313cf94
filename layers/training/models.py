"""Tables of security training: industries, resources, courses, plans, learning, certificates.

A course is made of resources (documents and videos kept in the database with their SM3)
and a quiz (questions as data, answers graded on the server). A plan assigns courses to
the units of industries, or to named units, with a deadline; its assignments are written
out per unit when the plan is written. A learner's progress, attempts and certificates
are per user; ``unit_training`` sums them per unit for the map (a tile property).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from layers.base import Base

COURSE_STATES = ("draft", "published", "retired")
PLAN_STATES = ("active", "withdrawn")
RESOURCE_KINDS = ("document", "video")


def _now() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now())


class _Authored:
    """Who added the row, and when."""

    created_by: Mapped[int | None] = mapped_column(BigInteger)
    creator_name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = _now()


class _Owned(_Authored):
    """A row of a district or precinct's own (both empty: the city's), by its author."""

    district_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("districts.id", ondelete="SET NULL")
    )
    precinct_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("precincts.id", ondelete="SET NULL")
    )


class _Edited(_Owned):
    """An owned row edited under a version check."""

    version: Mapped[int] = mapped_column(Integer, server_default="1")
    updated_at: Mapped[datetime] = _now()


class TrainingIndustry(Base):
    """An industry (行业) whose units are trained alike; its code is the units' category."""

    __tablename__ = "training_industries"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))


class TrainingResource(_Authored, Base):
    """A document or video of the resource library: checked type, size, SM3, who added it."""

    __tablename__ = "training_resources"
    __table_args__ = (
        CheckConstraint("kind IN ('document','video')", name="kind"),
        UniqueConstraint("sm3"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sm3: Mapped[str] = mapped_column(String(64))


class TrainingResourceContent(Base):
    """The bytes of one resource, apart so that listing never reads them (sliced for ranges)."""

    __tablename__ = "training_resource_contents"

    resource_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("training_resources.id", ondelete="CASCADE"), primary_key=True
    )
    content: Mapped[bytes] = mapped_column(LargeBinary)


class TrainingCourse(_Edited, Base):
    """A course: its resources in order, a quiz and the pass mark (percent of the points)."""

    __tablename__ = "training_courses"
    __table_args__ = (
        CheckConstraint("state IN ('draft','published','retired')", name="state"),
        CheckConstraint("pass_mark BETWEEN 0 AND 100", name="pass_mark"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str | None] = mapped_column(String(5000))
    state: Mapped[str] = mapped_column(String(16))
    pass_mark: Mapped[int] = mapped_column(SmallInteger)
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    quiz_version: Mapped[int] = mapped_column(Integer, server_default="1")


class TrainingCourseResource(Base):
    """Resource ``resource_id`` is the ``position``-th part of course ``course_id``."""

    __tablename__ = "training_course_resources"
    __table_args__ = (Index("ix_training_course_resources_resource_id", "resource_id"),)

    course_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("training_courses.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    resource_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("training_resources.id", ondelete="RESTRICT")
    )


class TrainingPlan(_Edited, Base):
    """A plan: courses the units of ``industries`` and ``unit_ids`` must pass by ``deadline``."""

    __tablename__ = "training_plans"
    __table_args__ = (CheckConstraint("state IN ('active','withdrawn')", name="state"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(200))
    industries: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
    unit_ids: Mapped[list[int]] = mapped_column(ARRAY(BigInteger))
    deadline: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16))


class TrainingPlanCourse(Base):
    """Course ``course_id`` belongs to plan ``plan_id``."""

    __tablename__ = "training_plan_courses"
    __table_args__ = (Index("ix_training_plan_courses_course_id", "course_id"),)

    plan_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("training_plans.id", ondelete="CASCADE"), primary_key=True
    )
    course_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("training_courses.id", ondelete="RESTRICT"), primary_key=True
    )


class TrainingAssignment(Base):
    """Unit ``unit_id`` must pass course ``course_id`` under plan ``plan_id`` (written out)."""

    __tablename__ = "training_assignments"
    __table_args__ = (Index("ix_training_assignments_unit_id", "unit_id", "course_id"),)

    plan_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("training_plans.id", ondelete="CASCADE"), primary_key=True
    )
    course_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("training_courses.id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("units.id", ondelete="CASCADE"), primary_key=True
    )


class TrainingProgress(Base):
    """What one learner did in one course: resources opened, attempts, best score, passed."""

    __tablename__ = "training_progress"

    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    course_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("training_courses.id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("units.id", ondelete="CASCADE"))
    viewed: Mapped[list[int]] = mapped_column(ARRAY(BigInteger))
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    best_score: Mapped[int | None] = mapped_column(SmallInteger)
    passed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = _now()


class TrainingAttempt(Base):
    """One graded quiz: the answers given, the score (percent) and whether it passed."""

    __tablename__ = "training_attempts"
    __table_args__ = (Index("ix_training_attempts_user_id", "user_id", "course_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("units.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("training_courses.id", ondelete="CASCADE")
    )
    quiz_version: Mapped[int] = mapped_column(Integer)
    answers: Mapped[dict[str, Any]] = mapped_column(JSONB)
    score: Mapped[int] = mapped_column(SmallInteger)
    passed: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = _now()


class TrainingCertificate(Base):
    """A certificate: the learner passed the course (one per learner and course)."""

    __tablename__ = "training_certificates"
    __table_args__ = (
        UniqueConstraint("user_id", "course_id"),
        UniqueConstraint("number"),
        Index("ix_training_certificates_unit_id", "unit_id", "course_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"))
    learner_name: Mapped[str] = mapped_column(String(64))
    unit_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("units.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("training_courses.id", ondelete="CASCADE")
    )
    attempt_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("training_attempts.id", ondelete="CASCADE")
    )
    score: Mapped[int] = mapped_column(SmallInteger)
    issued_at: Mapped[datetime] = _now()


class UnitTraining(Base):
    """A unit's training compliance, for the map: courses assigned, passed, next deadline."""

    __tablename__ = "unit_training"

    unit_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("units.id", ondelete="CASCADE"), primary_key=True
    )
    assigned: Mapped[int] = mapped_column(Integer)
    passed: Mapped[int] = mapped_column(Integer)
    # the earliest deadline of a course not passed yet (None: every course passed)
    due: Mapped[date | None] = mapped_column(Date)


class TrainingNotice(_Owned, Base):
    """A training notice (通知公告) to the units of ``industries`` (all: empty) in its scope."""

    __tablename__ = "training_notices"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(String(20000))
    industries: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
