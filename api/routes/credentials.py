"""Credentials: change one's own password, enrol a TOTP app, and the administrators' resets.

Changing the password and enrolling are open to a session that must do them first (an
initial, reset or expired password; a role without its second factor); the resets are
for the roles that manage users.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response

from api.access import ANY_STATE, requires
from api.deps import (
    CurrentActor,
    EnrollingActor,
    LiveSessionDep,
    SessionDep,
    SettingsDep,
    TokenDep,
    source_of,
)
from api.schemas.auth import OneTimePassword, PasswordChange, TotpConfirm, TotpEnrolment
from layers.accounts.credentials import (
    change_password,
    confirm_totp,
    enrol_totp,
    reset_password,
    reset_totp,
)
from layers.accounts.roles import Permission
from layers.accounts.service import hash_token

PASSWORD_RESETTERS = requires(Permission.USERS_MANAGE)
FACTOR_RESETTERS = requires(Permission.ROLES_MANAGE)
router = APIRouter(tags=["auth"])
UserId = Annotated[int, Path(ge=1, le=2**63 - 1, description="id of the user")]
NO_STORE = {"Cache-Control": "no-store"}  # a secret shown once is kept by no cache


def _forget_user(request: Request, user_id: int | None) -> None:
    """Drop the user's remembered sessions here at once (other workers hear it at commit)."""
    if user_id is not None:
        request.app.state.session_cache.drop_user(user_id)


@router.post("/api/auth/password", dependencies=[Depends(ANY_STATE)], status_code=204)
def update_password(
    body: PasswordChange, request: Request, session: SessionDep, settings: SettingsDep,
    live: LiveSessionDep, token: TokenDep,
) -> None:  # fmt: skip
    """Change your password (the current one given); your other sessions end."""
    change_password(session=session, actor=live.actor, token_hash=hash_token(token),
                    old_password=body.old_password, new_password=body.new_password,
                    policy=settings.security, source=source_of(request))  # fmt: skip
    _forget_user(request, live.actor.user_id)


@router.post("/api/auth/totp/enroll", dependencies=[Depends(ANY_STATE)])
def create_totp_enrolment(
    response: Response, session: SessionDep, settings: SettingsDep, actor: EnrollingActor
) -> TotpEnrolment:
    """Issue a new TOTP secret, shown this once; confirm it with a code to make it count."""
    enrolment = enrol_totp(session=session, actor=actor, policy=settings.security)
    response.headers.update(NO_STORE)
    return TotpEnrolment(secret=enrolment.secret, otpauth_uri=enrolment.otpauth_uri)


@router.post("/api/auth/totp/confirm", dependencies=[Depends(ANY_STATE)], status_code=204)
def confirm_totp_enrolment(
    body: TotpConfirm, request: Request, session: SessionDep, actor: EnrollingActor
) -> None:
    """Confirm the new secret with the app's current code; later logins need a code."""
    confirm_totp(session=session, actor=actor, code=body.code)
    _forget_user(request, actor.user_id)


@router.post(
    "/api/admin/users/{user_id}/password-reset", dependencies=[Depends(PASSWORD_RESETTERS)]
)
def reset_user_password(
    user_id: UserId, request: Request, response: Response, session: SessionDep,
    settings: SettingsDep, actor: CurrentActor,
) -> OneTimePassword:  # fmt: skip
    """Give a user a one-time password, shown this once; its next login must change it."""
    password = reset_password(session=session, actor=actor, user_id=user_id,
                              policy=settings.security)  # fmt: skip
    _forget_user(request, user_id)
    response.headers.update(NO_STORE)
    return OneTimePassword(user_id=user_id, one_time_password=password)


@router.post(
    "/api/admin/users/{user_id}/totp-reset",
    dependencies=[Depends(FACTOR_RESETTERS)],
    status_code=204,
)
def reset_user_totp(
    user_id: UserId, request: Request, session: SessionDep, actor: CurrentActor
) -> None:
    """Remove a user's second factor (a lost device): its sessions end; it enrols anew."""
    reset_totp(session=session, actor=actor, user_id=user_id)
    _forget_user(request, user_id)
