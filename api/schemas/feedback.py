"""Schemas of users' feedback and its triage."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

FeedbackStatus = Literal["new", "in_progress", "done", "rejected"]


class FeedbackPublic(BaseModel):
    """One feedback without its screenshot (``has_screenshot`` says whether there is one)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime
    updated_at: datetime
    author_name: str
    page_url: str
    text: str
    screenshot_bytes: int
    status: FeedbackStatus
    note: str | None
    triaged_by: str | None
    version: int
    next_statuses: list[FeedbackStatus] = Field(
        default_factory=list, description="The statuses triage may move it to from here"
    )


class FeedbacksPublic(BaseModel):
    """Feedback, newest first."""

    data: list[FeedbackPublic]
    count: int


class FeedbackTriage(BaseModel):
    """An administrator's decision on a feedback: its new status and a note."""

    model_config = ConfigDict(extra="forbid")

    status: FeedbackStatus
    note: str | None = Field(default=None, max_length=2000)
