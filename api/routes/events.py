"""The event log: live as Server-Sent Events, and replayed over the last hours."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request

from api.access import FEATURE_READERS
from api.deps import (
    BBoxDep,
    CurrentActor,
    SessionDep,
    SettingsDep,
    TokenDep,
    admitted,
    live_session,
)
from api.links import public_href
from api.live.hub import EventHub, Unavailable
from api.live.stream import EventStream, EventStreamResponse, StreamPlan
from api.schemas.events import EventPublic, EventsPublic
from layers.accounts.scope import Actor
from layers.errors import InvalidInput, NotAuthenticated, PermissionDenied
from layers.settings import Settings
from layers.stream.filters import EventFilter, parse_layers, parse_types
from layers.stream.reading import Span, read_events, require_reader
from layers.stream.window import replay_span
from layers.values import storable_instant

router = APIRouter(prefix="/api/events", tags=["events"], dependencies=[Depends(FEATURE_READERS)])

MAX_ID = 2**63 - 1
EventId = Annotated[int | None, Query(ge=0, le=MAX_ID, description="only events after this id")]


def event_filter(
    bbox: BBoxDep,
    types: Annotated[str | None, Query(
        max_length=2000, description="event types or families, comma-separated: "
        "feature,record.created,geofence",
    )] = None,
    layers: Annotated[str | None, Query(
        max_length=2000, description="layer ids, comma-separated (events about a feature)",
    )] = None,
) -> EventFilter:  # fmt: skip
    """Return the ``types``, ``layers`` and ``bbox`` parameters as one filter."""
    return EventFilter(parse_types(types), parse_layers(layers), bbox)


EventFilterDep = Annotated[EventFilter, Depends(event_filter)]


def resume_point(last_event_id: str | None, after: int | None) -> int | None:
    """Return the id a client resumes after: ``Last-Event-ID`` (a reconnect), else ``after``."""
    if last_event_id is None:
        return after
    text = last_event_id.strip()
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_ID:
        raise InvalidInput(f"Last-Event-ID must be an event id, got {last_event_id[:40]!r}")
    return int(text)


def _admission(request: Request, settings: Settings, token: str) -> Actor | None:
    """Return the actor the token stands for now, or None if it may not go on."""
    with request.app.state.sessionmaker() as session:
        try:
            actor = admitted(live_session(request, session, settings, token))
        except (NotAuthenticated, PermissionDenied):
            return None
        session.commit()  # the idle clock: an open stream is use
        return actor


@router.get(
    "/stream",
    status_code=200,  # EventStreamResponse has no default FastAPI could document
    response_class=EventStreamResponse,
    responses={200: {"content": {"text/event-stream": {}},
                     "description": "id: <event id>, data: an event (EventPublic) per message"},
               503: {"description": "this worker serves as many streams as it may"}},
)  # fmt: skip
async def stream_events(
    request: Request,
    actor: CurrentActor,
    settings: SettingsDep,
    token: TokenDep,
    wanted: EventFilterDep,
    after: EventId = None,
    last_event_id: Annotated[str | None, Header(max_length=40)] = None,
) -> EventStreamResponse:
    """Stream the events the user may see as they commit; resume after Last-Event-ID or after."""
    require_reader(actor)
    resume = resume_point(last_event_id, after)
    hub: EventHub = request.app.state.event_hub
    try:
        client = await hub.subscribe(actor, wanted)
    except Unavailable as exc:
        raise HTTPException(503, str(exc), headers={"Retry-After": "5"}) from None
    plan = StreamPlan(actor, client.start if resume is None else resume,
                      lambda: _admission(request, settings, token))  # fmt: skip
    stream = EventStream(client, plan, request.app.state.sessionmaker, settings.stream)
    return EventStreamResponse(stream.messages(), on_close=lambda: hub.unsubscribe(client))


def local_instant(value: datetime, settings: Settings) -> datetime:
    """Return a time parameter as an aware instant: without an offset, in the bureau's zone."""
    return storable_instant(value if value.tzinfo else value.replace(tzinfo=settings.zone),
                            "time", UTC)  # fmt: skip


@router.get("")
def list_events(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    settings: SettingsDep,
    wanted: EventFilterDep,
    from_: Annotated[datetime | None, Query(
        alias="from", description="RFC 3339 (without an offset: local); default and earliest: "
        "the window's start",
    )] = None,
    to: Annotated[datetime | None, Query(description="RFC 3339; default: now")] = None,
    after: EventId = None,
    limit: Annotated[int | None, Query(ge=1, description="events a page holds at most")] = None,
) -> EventsPublic:  # fmt: skip
    """Return a page of the events the user may see between two times, in id order."""
    stream = settings.stream
    since, until = replay_span(
        since=local_instant(from_, settings) if from_ else None,
        until=local_instant(to, settings) if to else None,
        now=datetime.now(UTC), window_hours=stream.window_hours,
    )  # fmt: skip
    if limit is not None and limit > stream.page_size:
        raise InvalidInput(f"limit must be between 1 and {stream.page_size}, got {limit}")
    size = limit or stream.page_size
    rows = read_events(session=session, actor=actor, wanted=wanted, limit=size,
                       span=Span(after=after or 0, since=since, until=until))  # fmt: skip
    next_href = None
    if len(rows) == size:
        pinned = {"from": since.isoformat(), "to": until.isoformat(), "after": rows[-1].id}
        next_href = public_href(request, request.url.include_query_params(**pinned))
    return EventsPublic(data=[EventPublic.of(row) for row in rows], since=since, until=until,
                        next=next_href)  # fmt: skip
