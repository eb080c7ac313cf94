"""Schemas of records: what a client sends to create one, and what it reads back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.attachments import AttachmentPublic
from api.schemas.values import Instant
from layers.records.refs import FeatureRef
from layers.records.service import NewRecord


class FeatureRefIn(BaseModel):
    """A feature a record concerns."""

    model_config = ConfigDict(extra="forbid")

    layer: str = Field(max_length=32)
    id: int = Field(ge=1)


class RecordCreate(BaseModel):
    """A new record: title, topic, the features it concerns and its kind's details."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    topic: str = Field(max_length=32)
    features: list[FeatureRefIn] = Field(min_length=1, max_length=5000)
    priority: int = Field(default=2, ge=1, le=4)
    due_at: Instant | None = None
    starts_at: Instant | None = None
    ends_at: Instant | None = None
    details: dict[str, Any] = Field(default_factory=dict)

    def to_domain(self) -> NewRecord:
        """Return the domain's description of the new record."""
        return NewRecord(
            title=self.title, topic=self.topic,
            features=[FeatureRef(f.layer, f.id) for f in self.features],
            details=self.details, priority=self.priority, due_at=self.due_at,
            starts_at=self.starts_at, ends_at=self.ends_at,
        )  # fmt: skip


class BulkCreate(RecordCreate):
    """Records for many features: one per feature, or one for them all."""

    one_per_feature: bool = True


class BulkCreated(BaseModel):
    """The ids of the records a bulk create made."""

    ids: list[int]
    count: int


class TransitionIn(BaseModel):
    """A workflow action to take, with an optional note and the details fields it fills."""

    model_config = ConfigDict(extra="forbid")

    action: str = Field(max_length=32)
    note: str | None = Field(default=None, max_length=2000)
    details: dict[str, Any] | None = Field(
        default=None,
        description="details fields the step fills (a case's results at disposal)",
    )


class TransitionPublic(BaseModel):
    """One step taken: action, states, who and when."""

    action: str
    from_state: str | None
    to_state: str
    actor: str
    at: datetime
    note: str | None


class CommentIn(BaseModel):
    """A remark to add to a record."""

    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=5000)


class CommentPublic(BaseModel):
    """A remark on a record: who, when, what."""

    author: str
    at: datetime
    body: str


class ActionPublic(BaseModel):
    """A workflow action the reader may take now."""

    action: str
    title: str
    to_state: str


class RecordPublic(BaseModel):
    """A record as clients read it."""

    id: int
    kind: str
    topic: str
    state: str
    state_title: str
    title: str
    priority: int
    due_at: datetime | None
    starts_at: datetime | None
    ends_at: datetime | None
    details: dict[str, Any]
    location: tuple[float, float] | None
    district_id: int | None
    precinct_id: int | None
    version: int
    created_at: datetime
    updated_at: datetime
    features: list[FeatureRefIn] | None = None
    history: list[TransitionPublic] | None = None
    comments: list[CommentPublic] | None = None
    attachments: list[AttachmentPublic] | None = None
    actions: list[ActionPublic] | None = None


class RecordsPublic(BaseModel):
    """A page of records, newest first, with the cursor of the next page."""

    data: list[RecordPublic]
    count: int
    next: str | None


class RiskPublic(BaseModel):
    """A feature's open hazards: how many, and the highest level (0 when none)."""

    open_hazards: int
    hazard_level: int


class FeatureRecordsPublic(RecordsPublic):
    """A page of a feature's timeline, with the feature's current risk."""

    risk: RiskPublic
