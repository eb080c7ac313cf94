"""Schemas of accounts: creation (the administrator's) and authority (the security admin's)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from layers.accounts.roles import Role
from layers.accounts.service import Jurisdiction


class JurisdictionIn(BaseModel):
    """Where an account works: one of these, or none for the whole city."""

    district_code: str | None = Field(default=None, max_length=32)
    precinct_code: str | None = Field(default=None, max_length=32)
    unit_id: int | None = Field(default=None, ge=1, le=2**63 - 1)

    def to_domain(self) -> Jurisdiction:
        """Return the domain's jurisdiction."""
        return Jurisdiction(self.district_code, self.precinct_code, self.unit_id)


class AccountCreate(JurisdictionIn):
    """A new account: its name and the role asked for (granted when it is enabled)."""

    username: str = Field(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")
    role: Role


class AccountCreated(BaseModel):
    """A new, disabled account and its one-time password, shown this once."""

    id: int
    username: str
    role: str
    is_active: bool
    one_time_password: str


class AuthorityUpdate(BaseModel):
    """What a security administrator sets: any of role, jurisdiction, enabled."""

    role: Role | None = None
    jurisdiction: JurisdictionIn | None = None
    is_active: bool | None = None


class AuthorityPublic(BaseModel):
    """An account's role, jurisdiction (ids) and enabled state."""

    id: int
    username: str
    role: str
    district_id: int | None
    precinct_id: int | None
    unit_id: int | None
    is_active: bool
