"""Dependencies shared by routes: settings, a session per request, the current actor."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from layers.accounts.scope import Actor
from layers.accounts.service import resolve_session
from layers.errors import NotAuthenticated
from layers.features.registry import LayerSpec, get_layer
from layers.settings import Settings


def get_settings(request: Request) -> Settings:
    """Return the settings the app was built with."""
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """Yield a session; commit if the route succeeded, roll back if it raised."""
    with request.app.state.sessionmaker() as session:
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        session.commit()


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def bearer_token(request: Request, settings: SettingsDep) -> str:
    """Return the session token from the Authorization header or the session cookie."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    cookie = request.cookies.get(settings.security.cookie_name)
    if cookie:
        return cookie
    raise NotAuthenticated("log in first: send 'Authorization: Bearer <token>' or the cookie")


TokenDep = Annotated[str, Depends(bearer_token)]


def client_of(request: Request) -> str | None:
    """Return a short description of the caller for the audit log."""
    host = request.client.host if request.client else "?"
    agent = request.headers.get("user-agent", "")[:150]
    return f"{host} {agent}".strip()


def current_actor(
    request: Request, session: SessionDep, settings: SettingsDep, token: TokenDep
) -> Actor:
    """Return the actor behind the request's session token, or raise 401."""
    return resolve_session(
        session=session, token=token, policy=settings.security, client=client_of(request)
    )


CurrentActor = Annotated[Actor, Depends(current_actor)]


def layer_spec(layer: str) -> LayerSpec:
    """Return the registry entry of the ``layer`` path parameter, or raise 404."""
    return get_layer(layer)


LayerDep = Annotated[LayerSpec, Depends(layer_spec)]
