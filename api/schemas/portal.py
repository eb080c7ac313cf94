"""Schemas of the unit portal (互联网子系统) and of unit accounts (单位账号)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.notices import MessagePublic
from api.schemas.records import RecordPublic


class OrganisationFeaturePublic(BaseModel):
    """A feature the unit user works on: their own unit, or one their unit operates."""

    layer: str
    id: int
    name: str
    own: bool


class PortalHomePublic(BaseModel):
    """The portal's home page: counts, to-dos, deadlines and the latest notices."""

    organisation: list[OrganisationFeaturePublic]
    open_hazards: int
    overdue: int
    pending_approvals: int
    unread_notices: int
    todos: list[RecordPublic]
    deadlines: list[RecordPublic]
    notices: list[MessagePublic]


class PortalUnitPublic(BaseModel):
    """A unit of the organisation: its details (personal values masked), version, pending edits."""

    layer: str
    id: int
    version: int
    properties: dict[str, Any]
    editable: list[str]
    pending: list[RecordPublic]


class UnitEdit(BaseModel):
    """What a unit may propose to change about itself (an officer approves it)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    address: str | None = Field(default=None, max_length=300)
    contact_name: str | None = Field(default=None, min_length=1, max_length=64)
    contact_phone: str | None = Field(default=None, pattern=r"^[0-9+\- ]{5,20}$")

    def properties(self) -> dict[str, Any]:
        """Return the proposed values, only those given."""
        return self.model_dump(exclude_unset=True)


class PortalRecordsPublic(BaseModel):
    """A page of the organisation's records, newest first; ``next`` pages on (``before``)."""

    data: list[RecordPublic]
    count: int
    next: int | None


class InvitationCreate(BaseModel):
    """An officer invites a unit: which, and for how long the code is good."""

    model_config = ConfigDict(extra="forbid")

    unit_id: int = Field(ge=1)
    valid_hours: int = Field(default=72, ge=1, le=24 * 30)


class InvitationPublic(BaseModel):
    """An invitation (its code only in the answer that made it)."""

    id: int
    unit_id: int
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    revoked_at: datetime | None
    code: str | None = None
    join_path: str | None = None


class InvitationRedeem(BaseModel):
    """The unit redeems its code: the username and password it chooses."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=8, max_length=64)
    username: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
    password: str = Field(min_length=1, max_length=256)


class UnitAccountPublic(BaseModel):
    """A unit account as its supervising officer sees it."""

    id: int
    username: str
    unit_id: int
    is_active: bool
    created_at: datetime


class UnitAccountsPublic(BaseModel):
    """A unit's accounts and invitations."""

    accounts: list[UnitAccountPublic]
    invitations: list[InvitationPublic]


class AccountState(BaseModel):
    """Enable or disable a unit account."""

    model_config = ConfigDict(extra="forbid")

    active: bool
