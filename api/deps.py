"""Dependencies shared by routes: settings, a session per request, the current actor."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, time, tzinfo
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session

from api.ops.context import note_user
from geo.crs import CoordSystem
from layers.accounts.scope import Actor
from layers.accounts.service import LiveSession, Required, hash_token, resolve_session
from layers.accounts.session_cache import SessionCache
from layers.errors import (
    InvalidInput,
    NotAuthenticated,
    PasswordChangeRequired,
    SecondFactorEnrolmentRequired,
)
from layers.features.filters import BBox
from layers.features.registry import LayerSpec, get_layer
from layers.features.timespan import TimeInterval
from layers.settings import Settings
from layers.values import storable_instant

MAX_VERSION_DIGITS = 10  # versions are PostgreSQL integers (< 2**31)


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


def source_of(request: Request) -> str:
    """Return the caller's network address: the peer's (X-Forwarded-For is not trusted)."""
    return request.client.host if request.client else "?"


def client_of(request: Request) -> str | None:
    """Return a short description of the caller for the audit log: its address, then agent."""
    agent = request.headers.get("user-agent", "")[:150]
    return f"{source_of(request)} {agent}".strip()


def live_session(
    request: Request, session: SessionDep, settings: SettingsDep, token: TokenDep
) -> LiveSession:
    """Return the live session behind the request's token, whatever it must do first, or 401."""
    cache: SessionCache = request.app.state.session_cache
    digest = hash_token(token)
    client = client_of(request)
    cached = cache.get(digest)
    if cached is not None:
        note_user(cached.actor.user_id)
        return replace(cached, actor=replace(cached.actor, client=client))
    generation = cache.generation  # read before the database: a revocation after it wins
    live = resolve_session(session=session, token=token, policy=settings.security, client=client)
    cache.put(digest, live, generation=generation)
    note_user(live.actor.user_id)
    return live


LiveSessionDep = Annotated[LiveSession, Depends(live_session)]


def _change_password_first(live: LiveSession) -> None:
    if live.required is Required.CHANGE_PASSWORD:
        raise PasswordChangeRequired(
            "change your password first (it is an initial, reset or expired one): "
            "POST /api/auth/password"
        )


def admitted(live: LiveSession) -> Actor:
    """Return the session's actor, or raise 403 while it must change its password or enrol."""
    _change_password_first(live)
    if live.required is Required.ENROL_TOTP:
        raise SecondFactorEnrolmentRequired(
            f"role {live.actor.role.value!r} logs in with a second factor: enrol an "
            "authenticator app first (POST /api/auth/totp/enroll, then /api/auth/totp/confirm)"
        )
    return live.actor


def current_actor(
    request: Request, session: SessionDep, settings: SettingsDep, token: TokenDep
) -> Actor:
    """Return the request's actor: 401 without a session, 403 until it did what it must first."""
    return admitted(live_session(request, session, settings, token))


def enrolling_actor(live: LiveSessionDep) -> Actor:
    """Return the session's actor once its password is its own (second factor or not)."""
    _change_password_first(live)
    return live.actor


CurrentActor = Annotated[Actor, Depends(current_actor)]
EnrollingActor = Annotated[Actor, Depends(enrolling_actor)]


def layer_spec(layer: str) -> LayerSpec:
    """Return the registry entry of the ``layer`` path parameter, or raise 404."""
    return get_layer(layer)


LayerDep = Annotated[LayerSpec, Depends(layer_spec)]


def bbox_param(
    bbox: Annotated[
        str | None, Query(description="minx,miny,maxx,maxy in WGS84 degrees", max_length=200)
    ] = None,
) -> BBox | None:
    """Return the ``bbox`` query parameter as four checked numbers (None when absent)."""
    if bbox is None:
        return None
    try:
        numbers = [float(part) for part in bbox.split(",")]
    except ValueError:
        raise InvalidInput(f"bbox must be four numbers minx,miny,maxx,maxy, got {bbox!r}") from None
    if len(numbers) == 6:  # a 3D bbox: drop the heights
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4 or not all(math.isfinite(n) for n in numbers):
        raise InvalidInput(f"bbox must be four finite numbers minx,miny,maxx,maxy, got {bbox!r}")
    minx, miny, maxx, maxy = numbers
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise InvalidInput(
            f"bbox {bbox!r} is not a WGS84 box: need -180<=minx<=maxx<=180, -90<=miny<=maxy<=90"
        )
    return (minx, miny, maxx, maxy)


BBoxDep = Annotated[BBox | None, Depends(bbox_param)]


def limit_param(settings: SettingsDep, limit: int | None = None) -> int:
    """Return the ``limit`` query parameter within 1..max_limit (the default when absent)."""
    maximum = settings.features.max_limit
    if limit is None:
        return min(settings.features.default_limit, maximum)
    if not 1 <= limit <= maximum:
        raise InvalidInput(f"limit must be between 1 and {maximum}, got {limit}")
    return limit


LimitDep = Annotated[int, Depends(limit_param)]
RevealDep = Annotated[bool, Query(
    description="Show personal values in full (a role with personal:read; each read audited).",
)]  # fmt: skip


def crs_param(
    crs: Annotated[
        CoordSystem, Query(description="coordinates in/out: wgs84 (stored), gcj02 or bd09")
    ] = CoordSystem.WGS84,
) -> CoordSystem:
    """Return the ``crs`` query parameter: the coordinate system of input and output."""
    return crs


CrsDep = Annotated[CoordSystem, Depends(crs_param)]


def extra_params(request: Request, reserved: frozenset[str]) -> dict[str, str]:
    """Return query parameters not in ``reserved`` (attribute filters); repeats are refused."""
    extra: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        if name in reserved:
            continue
        if name in extra:
            raise InvalidInput(f"filter {name!r} is given twice; use one a,b list or a range")
        extra[name] = value
    return extra


def if_match_version(value: str | None) -> int | None:
    """Return the version named by an If-Match header (None if absent), or raise on a bad one."""
    if value is None:
        return None
    tag = value.strip().removeprefix("W/").strip('"')
    if not (tag.isascii() and tag.isdigit()) or len(tag) > MAX_VERSION_DIGITS:
        raise InvalidInput(f"If-Match must be a version ETag such as '\"3\"', got {value[:40]!r}")
    return int(tag)


def _bounds(text: str, zone: tzinfo) -> tuple[datetime, datetime] | None:
    """Return the first and last instant ``text`` names: a date is that whole day in ``zone``."""
    if text in ("", ".."):
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        pass
    else:
        return datetime.combine(day, time.min, zone), datetime.combine(day, time.max, zone)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"datetime {text!r} is not RFC 3339 (2026-11-24T08:00:00Z)") from None
    instant = storable_instant(value if value.tzinfo else value.replace(tzinfo=zone), "datetime")
    return instant, instant


def datetime_param(
    settings: SettingsDep,
    datetime_: Annotated[
        str | None,
        Query(alias="datetime", max_length=100,
              description="instant, date (that day in the bureau's time zone) or start/end, "
                          "'..' open"),
    ] = None,
) -> TimeInterval | None:  # fmt: skip
    """Return the ``datetime`` parameter as an inclusive interval (a date is its whole day)."""
    if datetime_ is None:
        return None
    zone = settings.zone
    start, slash, end = datetime_.partition("/")
    if not slash:
        instant = _bounds(start, zone)
        if instant is None:
            raise InvalidInput("datetime needs an instant or an interval start/end")
        return TimeInterval(*instant, zone)
    first, last = _bounds(start, zone), _bounds(end, zone)
    interval = TimeInterval(first[0] if first else None, last[1] if last else None, zone)
    if interval.start and interval.end and interval.start > interval.end:
        raise InvalidInput(f"datetime interval {datetime_!r} ends before it starts")
    return interval


DatetimeDep = Annotated[TimeInterval | None, Depends(datetime_param)]
