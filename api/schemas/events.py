"""Schemas of the event log: one event (a stream message's data), a replay page."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from layers.stream.reading import EventRow


class EventPublic(BaseModel):
    """One change: its id (the stream's ``id:``), when, what type, about what, where."""

    id: int
    at: datetime
    type: str = Field(description="family.action: feature.created, record.updated, ...")
    layer: str | None
    feature_id: int | None
    bbox: tuple[float, float, float, float] | None = Field(
        description="west, south, east, north in WGS84 (a move: old and new places)"
    )
    payload: dict[str, Any]

    @classmethod
    def of(cls, row: EventRow) -> EventPublic:
        """Return the public form of an event row."""
        return cls(**asdict(row))


class EventsPublic(BaseModel):
    """A page of events in id order, the span replayed, and the next page's link (or none)."""

    data: list[EventPublic]
    since: datetime
    until: datetime
    next: str | None
