"""Schemas of login and the current user."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class LoginRequest(BaseModel):
    """Credentials sent to log in."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class Token(BaseModel):
    """A fresh session token."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds of inactivity before the session expires.")


class Me(BaseModel):
    """The logged-in user as the UI needs it."""

    id: int | None
    username: str
    role: str
    scope: str
    scope_id: int | None


class SessionState(BaseModel):
    """Whether the caller's token or cookie is a live session, and nothing more."""

    authenticated: bool
