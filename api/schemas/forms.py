"""Schemas of form templates and of filled-in forms."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.records import FeatureRefIn, RecordPublic
from layers.records.forms import NewTemplate
from layers.records.refs import FeatureRef
from layers.records.submissions import Submission


class TemplateCreate(BaseModel):
    """A new version of a form: its answers' JSON Schema and scoring table."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")
    form_kind: str = Field(max_length=32)
    title: str = Field(min_length=1, max_length=200)
    schema_: dict[str, Any] = Field(alias="schema")
    scoring: dict[str, Any] = Field(default_factory=dict)

    def to_domain(self) -> NewTemplate:
        """Return the domain's description of the template."""
        return NewTemplate(code=self.code, form_kind=self.form_kind, title=self.title,
                           schema=self.schema_, scoring=self.scoring)  # fmt: skip


class TemplatePublic(BaseModel):
    """One version of a form as clients read it."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    code: str
    version: int
    form_kind: str
    title: str
    schema_: dict[str, Any] = Field(alias="schema")
    scoring: dict[str, Any]
    created_at: datetime


class TemplatesPublic(BaseModel):
    """The latest version of every form."""

    data: list[TemplatePublic]
    count: int


class SubmissionCreate(BaseModel):
    """A form filled in about features (the latest version unless one is named)."""

    model_config = ConfigDict(extra="forbid")

    template: str = Field(max_length=64)
    template_version: int | None = Field(default=None, ge=1)
    topic: str = Field(default="internal_security", max_length=32)
    title: str | None = Field(default=None, max_length=200)
    features: list[FeatureRefIn] = Field(min_length=1, max_length=100)
    answers: dict[str, Any]

    def to_domain(self) -> Submission:
        """Return the domain's description of the submission."""
        return Submission(
            template=self.template, template_version=self.template_version, topic=self.topic,
            title=self.title, answers=self.answers,
            features=[FeatureRef(f.layer, f.id) for f in self.features],
        )  # fmt: skip


class SubmissionPublic(RecordPublic):
    """A kept submission and the hazards its failed items opened."""

    opened_hazards: list[RecordPublic] = Field(default_factory=list)
