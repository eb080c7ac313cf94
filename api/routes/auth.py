"""Log in and out; the token is returned and also set as an HttpOnly cookie."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from api.access import ANY_STATE, PUBLIC
from api.deps import (
    LiveSessionDep,
    SessionDep,
    SettingsDep,
    TokenDep,
    bearer_token,
    client_of,
    live_session,
    source_of,
)
from api.schemas.auth import LoginRequest, Me, SessionState, Token
from layers.accounts.service import hash_token, login, logout
from layers.errors import NotAuthenticated

router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.post("/login", dependencies=[Depends(PUBLIC)])
def create_session(
    body: LoginRequest, request: Request, response: Response, session: SessionDep,
    settings: SettingsDep,
) -> Token:  # fmt: skip
    """Log in with username, password and, for a user with a second factor, its code."""
    result = login(session=session, username=body.username, password=body.password,
                   policy=settings.security, source=source_of(request),
                   client=client_of(request), totp_code=body.totp_code)  # fmt: skip
    response.set_cookie(
        settings.security.cookie_name, result.token, httponly=True, samesite="strict",
        secure=settings.security.cookie_secure, path="/",
    )  # fmt: skip
    return Token(access_token=result.token, expires_in=result.expires_in,
                 required=result.required)  # fmt: skip


@router.post("/logout", dependencies=[Depends(ANY_STATE)], status_code=204)
def delete_session(
    request: Request, response: Response, session: SessionDep, live: LiveSessionDep,
    token: TokenDep, settings: SettingsDep,
) -> None:  # fmt: skip
    """End the current session."""
    logout(session=session, token=token, actor=live.actor)
    request.app.state.session_cache.drop(hash_token(token))
    response.delete_cookie(settings.security.cookie_name, path="/")


@router.get("/me", dependencies=[Depends(ANY_STATE)])
def read_me(live: LiveSessionDep) -> Me:
    """Return the logged-in user and what the session must do first, if anything."""
    actor = live.actor
    return Me(id=actor.user_id, username=actor.username, role=actor.role.value,
              scope=actor.scope.kind.value, scope_id=actor.scope.id,
              required=live.required)  # fmt: skip


@router.get("/session", dependencies=[Depends(PUBLIC)])
def read_session(request: Request, session: SessionDep, settings: SettingsDep) -> SessionState:
    """Say whether the caller is logged in; 200 either way, so a page can ask before login."""
    try:
        live_session(request, session, settings, bearer_token(request, settings))
    except NotAuthenticated:
        return SessionState(authenticated=False)
    return SessionState(authenticated=True)
