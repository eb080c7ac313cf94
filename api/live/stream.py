"""One client's stream: what it missed, read from the table, then live events as they come.

The client subscribes first and reads its backlog after, up to the hub's frontier at
subscription; whatever the queue holds up to there is skipped, so the switch from table
to live loses and repeats nothing. Every ``heartbeat_s`` the hub gives each stream a
turn: a stream that sent nothing since the last sends a comment line, and every
``session_check_s`` it checks its session again; a stream whose session ended (or whose
user changed) sends a last message and closes.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from api.live.hub import Client, Delivery, Ending, Tick
from api.live.messages import (
    HEARTBEAT,
    SESSION_ENDED,
    UNAVAILABLE,
    bookmark_message,
    end_message,
    event_message,
    retry_message,
)
from layers.accounts.scope import Actor
from layers.settings import StreamSettings
from layers.stream.reading import EventRow, Span, read_events

# A stream never ends by itself: a server stopping waits this long for streams to close,
# then cuts them (their clients resume elsewhere with Last-Event-ID). uvicorn's default waits.
SHUTDOWN_GRACE_S = 5

DATABASE_DOWN = end_message(UNAVAILABLE, "the session cannot be checked now; reconnect shortly")
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

    async def _session_ending(self) -> bytes | None:
        """Return the last message if the session may not go on (or cannot be checked)."""
        try:
            actor = await asyncio.to_thread(self._plan.still_admitted)
        except SQLAlchemyError:  # unchecked is not trusted; the client comes back later
            return DATABASE_DOWN
        return None if actor is not None and _same_view(actor, self._plan.actor) else SESSION_GONE

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
        # streams opened together (every client after a restart) check at different times
        next_check = loop.time() + settings.session_check_s * random.uniform(0.5, 1.0)
        quiet = True  # nothing sent since the last heartbeat's turn
        while True:
            waiting = await self._waiting()
            fresh = [d for d in waiting if isinstance(d, Delivery) and d.id > last]
            if fresh:  # what came together leaves together: one write, not one each
                yield b"".join(delivery.text for delivery in fresh)
                last, quiet = fresh[-1].id, False
            ending = next((e for e in waiting if isinstance(e, Ending)), None)
            if ending is not None:
                yield ending.text
                return
            if not any(isinstance(t, Tick) for t in waiting):
                continue
            if quiet:
                yield HEARTBEAT
            quiet = True
            if loop.time() >= next_check:
                ending_text = await self._session_ending()
                if ending_text is not None:
                    yield ending_text
                    return
                next_check = loop.time() + settings.session_check_s

    async def _waiting(self) -> list[Delivery | Ending | Tick]:
        """Return what the queue holds, waiting for a first message (a tick comes at last)."""
        queue = self._client.queue
        waiting = [await queue.get()]
        while not queue.empty():
            waiting.append(queue.get_nowait())
        return waiting


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
