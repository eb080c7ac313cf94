"""Schemas of actions on what a ring or a selection holds: tasks from a template, a notice."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.values import Instant
from layers.perimeters.actions import NoticeTemplate, TaskTemplate


class TaskTemplateIn(BaseModel):
    """The tasks to make: title, topic and task details shared by all; one each or one for all."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    topic: str = Field(default="internal_security", max_length=32)
    priority: int = Field(default=2, ge=1, le=4)
    due_at: Instant | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    one_per_feature: bool = True

    def to_domain(self) -> TaskTemplate:
        """Return the domain's template."""
        return TaskTemplate(
            title=self.title, topic=self.topic, details=self.details, priority=self.priority,
            due_at=self.due_at, one_per_feature=self.one_per_feature,
        )  # fmt: skip


class NoticeTemplateIn(BaseModel):
    """The notice to send: title, topic, body."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    topic: str = Field(default="internal_security", max_length=32)
    body: str = Field(min_length=1, max_length=20_000)

    def to_domain(self) -> NoticeTemplate:
        """Return the domain's template."""
        return NoticeTemplate(title=self.title, topic=self.topic, body=self.body)


class TasksMade(BaseModel):
    """The ids of the tasks an action made."""

    ids: list[int]
    count: int
