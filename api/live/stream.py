"""One client's stream: what it missed, read from the table, then live events as they come.

The client subscribes first and reads its backlog after, up to the hub's frontier at
subscription; whatever the queue holds up to there is skipped, so the switch from table
to live loses and repeats nothing. A quiet stream sends a comment line every
``heartbeat_s``; every ``session_check_s`` the session is checked again, and a stream
whose session ended (or whose user changed) sends a last message and closes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from api.live.hub import Client, Ending
from api.live.messages import (
    HEARTBEAT,
    SESSION_ENDED,
    bookmark_message,
    end_message,
    event_message,
    retry_message,
)
from layers.accounts.scope import Actor
from layers.settings import StreamSettings
from layers.stream.reading import EventRow, Span, read_events

SESSION_GONE = end_message(
    SESSION_ENDED, "the session ended (logged out, revoked or expired) or its user changed; "
    "log in again",
)  # fmt: skip


@dataclass(frozen=True)
class StreamPlan:
    """Whose stream it is, from which event on, and how to tell its session still holds."""

    actor: Actor
    after: int
    still_admitted: Callable[[], Actor | None]


def _same_view(a: Actor, b: Actor) -> bool:
    return (a.user_id, a.role, a.scope) == (b.user_id, b.role, b.scope)


class EventStream:
    """The messages of one open stream."""

    def __init__(
        self,
        client: Client,
        plan: StreamPlan,
        sessions: sessionmaker[Session],
        settings: StreamSettings,
    ) -> None:
        self._client = client
        self._plan = plan
        self._sessions = sessions
        self._settings = settings

    def _backlog(self, after: int) -> list[EventRow]:
        with self._sessions() as session:
            return read_events(session=session, actor=self._plan.actor,
                               wanted=self._client.group.wanted,
                               span=Span(after=after, upto=self._client.start),
                               limit=self._settings.page_size)  # fmt: skip

    def _still_admitted(self) -> bool:
        actor = self._plan.still_admitted()
        return actor is not None and _same_view(actor, self._plan.actor)

    async def messages(self) -> AsyncIterator[bytes]:
        """Yield the retry hint, the backlog, then live events, heartbeats and a last word."""
        settings = self._settings
        yield retry_message(settings.retry_ms)
        last = self._plan.after
        while last < self._client.start:
            rows = await asyncio.to_thread(self._backlog, last)
            for row in rows:
                yield event_message(row)
            if len(rows) < settings.page_size:
                break
            last = rows[-1].id
        last = max(last, self._client.start)
        yield bookmark_message(last)
        loop = asyncio.get_running_loop()
        quiet_since = loop.time()
        next_check = quiet_since + settings.session_check_s
        while True:
            now = loop.time()
            wait_s = min(quiet_since + settings.heartbeat_s, next_check) - now
            try:
                item = await asyncio.wait_for(self._client.queue.get(), max(wait_s, 0))
            except TimeoutError:
                item = None
            now = loop.time()
            if isinstance(item, Ending):
                yield item.text
                return
            if item is not None and item.id > last:
                yield item.text
                last, quiet_since = item.id, now
            elif now - quiet_since >= settings.heartbeat_s:
                yield HEARTBEAT
                quiet_since = now
            if now >= next_check:
                if not await asyncio.to_thread(self._still_admitted):
                    yield SESSION_GONE
                    return
                next_check = now + settings.session_check_s


class EventStreamResponse(StreamingResponse):
    """A ``text/event-stream`` answer that calls ``on_close`` however the stream ends."""

    media_type = "text/event-stream"

    def __init__(self, messages: AsyncIterator[bytes], on_close: Callable[[], object]) -> None:
        # no-cache and no proxy buffering: each message must leave at once
        super().__init__(messages, headers={"Cache-Control": "no-cache",
                                            "X-Accel-Buffering": "no"})  # fmt: skip
        self._on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Stream the messages; forget the client when the connection ends."""
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._on_close()
