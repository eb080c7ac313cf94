"""The text of Server-Sent Events: an event with its id, a comment, a last word.

An event is ``id: <event id>`` and ``data: <EventPublic JSON>``: a browser's
EventSource sends that id back as ``Last-Event-ID`` when it reconnects. An ``id:``
alone (a bookmark) moves that id on without an event: sent once the stream has caught
up, it lets a client that saw no event yet resume where it joined. A stream's last
message, before the server closes it, is ``event: end`` with a JSON reason.
"""

from __future__ import annotations

import json

from api.schemas.events import EventPublic
from layers.stream.reading import EventRow

HEARTBEAT = b": keep-alive\n\n"
SLOW = "SlowClient"
SESSION_ENDED = "SessionEnded"
STOPPING = "ServerStopping"
UNAVAILABLE = "Unavailable"


def event_message(row: EventRow) -> bytes:
    """Return an event as one SSE message carrying its id."""
    return f"id: {row.id}\ndata: {EventPublic.of(row).model_dump_json()}\n\n".encode()


def bookmark_message(event_id: int) -> bytes:
    """Return a message that only moves the client's last event id on (no event)."""
    return f"id: {event_id}\n\n".encode()


def retry_message(retry_ms: int) -> bytes:
    """Return the hint telling a browser how long to wait before it reconnects."""
    return f"retry: {retry_ms}\n\n".encode()


def end_message(code: str, detail: str) -> bytes:
    """Return the last message of a stream the server closes, saying why."""
    data = json.dumps({"code": code, "detail": detail}, ensure_ascii=False)
    return f"event: end\ndata: {data}\n\n".encode()
