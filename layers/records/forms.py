"""Forms as data (表单服务): versioned JSON Schema templates, scored submissions.

A template is a JSON Schema of its answers plus a scoring table: the points each
item earns when answered ``true``, and the hazard a ``false`` answer opens. Templates
are never edited in place: a change is a new version, and a submission is checked,
scored and kept against the version it was filled in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import BigInteger, DateTime, Integer, String, UniqueConstraint, func, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, Session, mapped_column

from layers.accounts.roles import Permission, Role
from layers.accounts.scope import Actor
from layers.audit.service import record_audit
from layers.base import Base
from layers.errors import InvalidInput, NotFound, PermissionDenied
from layers.records.hazards import HazardCategory

FORM_KINDS = {"inspection": "检查表", "self_check": "自查表", "assessment": "安全评估"}
MAX_ITEMS = 500
TEMPLATE_AUTHORS = frozenset({Role.COMMANDER, Role.ADMIN})


class FormTemplate(Base):
    """One version of a form: its answers' JSON Schema and how answers are scored."""

    __tablename__ = "form_templates"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    form_kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    schema: Mapped[dict[str, Any]] = mapped_column(JSONB)
    scoring: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class HazardRule(BaseModel):
    """The hazard a failed item opens."""

    model_config = ConfigDict(extra="forbid")

    level: int = Field(ge=1, le=4)
    category: HazardCategory


class ItemRule(BaseModel):
    """How one yes/no item of a form counts."""

    model_config = ConfigDict(extra="forbid")

    points: int = Field(default=0, ge=0, le=1000)
    hazard: HazardRule | None = None


class Scoring(BaseModel):
    """The scoring table of a template: item name -> its rule; a pass mark."""

    model_config = ConfigDict(extra="forbid")

    items: dict[str, ItemRule] = Field(default_factory=dict, max_length=MAX_ITEMS)
    pass_mark: int = Field(default=0, ge=0)


@dataclass(frozen=True)
class NewTemplate:
    """A template version as its author writes it."""

    code: str
    form_kind: str
    title: str
    schema: dict[str, Any]
    scoring: dict[str, Any]


@dataclass(frozen=True)
class Score:
    """The result of scoring answers: points, the maximum, pass, and the failed items."""

    points: int
    maximum: int
    passed: bool
    failed: list[str]

    def as_details(self) -> dict[str, Any]:
        """Return the score as a submission's details keep it."""
        return {"score": self.points, "max_score": self.maximum, "passed": self.passed,
                "failed_items": self.failed}  # fmt: skip


def _check_template(new: NewTemplate) -> Scoring:
    if new.form_kind not in FORM_KINDS:
        raise InvalidInput(f"form_kind must be one of {', '.join(FORM_KINDS)}")
    try:
        Draft202012Validator.check_schema(new.schema)
    except SchemaError as exc:
        raise InvalidInput(f"the form's schema is not valid JSON Schema: {exc.message}") from None
    if new.schema.get("type") != "object":
        raise InvalidInput("a form's schema must describe an object of answers (type: object)")
    try:
        scoring = Scoring.model_validate(new.scoring)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidInput(f"invalid scoring: {where}: {first['msg']}") from None
    properties = new.schema.get("properties", {})
    unknown = sorted(set(scoring.items) - set(properties))
    if unknown:
        raise InvalidInput(f"scoring names items the schema does not have: {', '.join(unknown)}")
    not_boolean = sorted(n for n in scoring.items if properties[n].get("type") != "boolean")
    if not_boolean:
        raise InvalidInput(f"scored items must be yes/no (boolean): {', '.join(not_boolean)}")
    return scoring


def create_template(*, session: Session, new: NewTemplate, actor: Actor) -> FormTemplate:
    """Add the next version of form ``new.code`` (version 1 for a new form); audited."""
    if actor.role not in TEMPLATE_AUTHORS:
        raise PermissionDenied(f"role {actor.role.value!r} may not write form templates")
    _check_template(new)
    latest = session.scalar(
        select(func.max(FormTemplate.version)).where(FormTemplate.code == new.code)
    )
    template = FormTemplate(
        code=new.code, version=(latest or 0) + 1, form_kind=new.form_kind, title=new.title,
        schema=new.schema, scoring=new.scoring, created_by=actor.user_id,
    )  # fmt: skip
    session.add(template)
    session.flush()
    record_audit(session, actor=actor, action="form.create", target_type="form_template",
                 target_id=f"{template.code}@{template.version}",
                 after={"title": template.title, "form_kind": template.form_kind})  # fmt: skip
    return template


def get_template(
    *, session: Session, code: str, actor: Actor, version: int | None = None
) -> FormTemplate:
    """Return version ``version`` of a form (the latest when None), or raise ``NotFound``."""
    actor.require(Permission.RECORDS_READ)
    query = select(FormTemplate).where(FormTemplate.code == code)
    if version is not None:
        query = query.where(FormTemplate.version == version)
    template = session.scalar(query.order_by(FormTemplate.version.desc()).limit(1))
    if template is None:
        which = f"version {version} of form" if version is not None else "form"
        raise NotFound(f"there is no {which} {code!r}")
    return template


def list_templates(*, session: Session, actor: Actor) -> list[FormTemplate]:
    """Return the latest version of every form."""
    actor.require(Permission.RECORDS_READ)
    latest = (
        select(FormTemplate.code, func.max(FormTemplate.version).label("version"))
        .group_by(FormTemplate.code)
        .subquery()
    )
    return list(session.scalars(
        select(FormTemplate)
        .join(latest, (latest.c.code == FormTemplate.code)
              & (latest.c.version == FormTemplate.version))
        .order_by(FormTemplate.code)
    ))  # fmt: skip


def score_answers(template: FormTemplate, answers: dict[str, Any]) -> Score:
    """Check ``answers`` against the template's schema and score them, or raise 422."""
    errors = sorted(
        Draft202012Validator(template.schema).iter_errors(answers), key=lambda e: list(e.path)
    )
    if errors:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.path) or 'answers'}: {e.message}" for e in errors[:10]
        )
        raise InvalidInput(f"answers do not fit form {template.code!r} v{template.version}: "
                           f"{problems}")  # fmt: skip
    scoring = Scoring.model_validate(template.scoring)
    points = sum(rule.points for name, rule in scoring.items.items() if answers.get(name) is True)
    maximum = sum(rule.points for rule in scoring.items.values())
    failed = [name for name in scoring.items if answers.get(name) is False]
    return Score(points, maximum, points >= scoring.pass_mark, failed)


def hazards_for(template: FormTemplate, score: Score) -> list[tuple[str, HazardRule]]:
    """Return the failed items that open a hazard, with the hazard each opens."""
    rules = Scoring.model_validate(template.scoring).items
    return [(name, rule.hazard) for name in score.failed if (rule := rules[name]).hazard]
