"""Schemas of login and the current user."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from layers.accounts.service import Required

CODE_PATTERN = r"^[0-9]{6}$"  # RFC 6238 codes as authenticator apps show them
REQUIRED = Field(
    default=None,
    description="What the session must do before anything else: change_password (an initial, "
    "reset or expired password) or enrol_totp (a role that logs in with a second factor); "
    "until then other routes answer 403.",
)


class LoginRequest(BaseModel):
    """Credentials sent to log in; ``totp_code`` too once the user has a second factor."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    totp_code: str | None = Field(
        default=None, pattern=CODE_PATTERN,
        description="The authenticator app's current code, for a user with a second factor.",
    )  # fmt: skip


class Token(BaseModel):
    """A fresh session token."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds of inactivity before the session expires.")
    required: Required | None = REQUIRED


class Me(BaseModel):
    """The logged-in user as the UI needs it."""

    id: int | None
    username: str
    role: str
    scope: str
    scope_id: int | None
    required: Required | None = REQUIRED


class SessionState(BaseModel):
    """Whether the caller's token or cookie is a live session, and nothing more."""

    authenticated: bool


class PasswordChange(BaseModel):
    """The current password and the new one (see the password policy)."""

    old_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)


class TotpEnrolment(BaseModel):
    """A new TOTP secret, shown once: type it or open the URI in an authenticator app."""

    secret: str = Field(description="Base32 secret (RFC 6238: SHA-1, 6 digits, 30 s).")
    otpauth_uri: str


class TotpConfirm(BaseModel):
    """A current code of the new secret."""

    code: str = Field(pattern=CODE_PATTERN, description="The code the app shows now.")


class OneTimePassword(BaseModel):
    """A reset user's one-time password, shown once; its first login must change it."""

    user_id: int
    one_time_password: str
