"""Schemas of notices and of the inbox."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.alerts import AlertPublic
from api.schemas.features import GeoJSONGeometry
from api.schemas.records import RecordPublic
from layers.records.notices import NewNotice, UnitSelection


class SelectionIn(BaseModel):
    """Every unit inside ``within``, in ``precinct_id``, matching ``filters``."""

    model_config = ConfigDict(extra="forbid")

    within: GeoJSONGeometry | None = None
    precinct_id: int | None = None
    filters: dict[str, str] = Field(default_factory=dict, max_length=20)

    def to_domain(self) -> UnitSelection:
        """Return the domain's description of the selection."""
        within = self.within.to_shape() if self.within else None
        return UnitSelection(within=within, precinct_id=self.precinct_id, filters=self.filters)


class NoticeCreate(BaseModel):
    """A notice and its recipients: users, units, and/or a selection of units."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    topic: str = Field(default="internal_security", max_length=32)
    body: str = Field(min_length=1, max_length=20_000)
    users: list[int] = Field(default_factory=list, max_length=5000)
    units: list[int] = Field(default_factory=list, max_length=5000)
    selection: SelectionIn | None = None

    def to_domain(self) -> NewNotice:
        """Return the domain's description of the notice."""
        return NewNotice(
            title=self.title, topic=self.topic, body=self.body, users=self.users,
            units=self.units, selection=self.selection.to_domain() if self.selection else None,
        )  # fmt: skip


class ReceiptsPublic(BaseModel):
    """How many a notice reached and how many have read it."""

    sent: int
    read: int


class MessagePublic(BaseModel):
    """One message of an inbox: why it came, when, whether read, and its record or alert."""

    id: int
    reason: str
    created_at: datetime
    read_at: datetime | None
    record: RecordPublic | None = None
    alert: AlertPublic | None = None  # a geofence alert (``GET /api/inbox?alerts=true``)


class InboxPublic(BaseModel):
    """A page of an inbox, newest first, and how many messages are unread in all."""

    data: list[MessagePublic]
    unread: int
    next: int | None
