"""Refuse requests carrying text PostgreSQL cannot store, before any route sees them.

One check for every route (tiles and OGC included): a NUL in the path or query string
(``%00``), or a NUL or lone surrogate in any string or key of a JSON body (``\\u0000``,
``\\ud800``, or raw surrogate bytes, which Python's JSON reader lets through). Such
text would fail in the database driver, in a password hash or in the JSON of an error
message; here it is a 422 naming the problem. Text decoded from inside a parameter
(a cursor, a cql2-json filter) is checked where it is decoded, with the same
``layers.values.text_problem``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_response
from layers.errors import InvalidInput
from layers.values import text_problem

# Where a JSON body can hide a NUL or a lone surrogate; a cheap test before decoding it.
_SUSPECT = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])|\xed[\xa0-\xbf]")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _is_json(scope: Scope) -> bool:
    """Return whether FastAPI would read the body as JSON (it does without a content type)."""
    for name, value in scope["headers"]:
        if name == b"content-type":
            media = value.split(b";")[0].strip().lower()
            return media == b"application/json" or media.endswith(b"+json")
    return True


def _strings(document: Any) -> Iterator[str]:
    """Yield every string and key of a decoded JSON document (iteratively: any depth)."""
    pending = [document]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            yield from value.keys()
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)


def json_problem(body: bytes) -> str | None:
    """Return why a JSON body holds unstorable text, or None (also for a body that is no JSON)."""
    if not _SUSPECT.search(body):
        return None
    try:
        document = json.loads(body)  # bytes are decoded with 'surrogatepass'
    except (ValueError, RecursionError):
        return None  # not JSON: the route says so
    for text in _strings(document):
        problem = text_problem(text)
        if problem is not None:
            return f"the JSON body has a string that {problem}"
    return None


async def _whole_body(receive: Receive) -> list[Message]:
    messages = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            return messages


def _replay(messages: list[Message], receive: Receive) -> Receive:
    async def replayed() -> Message:
        return messages.pop(0) if messages else await receive()

    return replayed


class UnstorableTextGuard:
    """ASGI middleware: a request with unstorable text gets the app's 422 at once."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer 422 to a request with a NUL or lone surrogate; pass on any other."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = None
        if b"%00" in scope["query_string"] or "\x00" in scope["path"]:
            problem = "the URL contains a NUL character (%00)"
        elif scope["method"] in _BODY_METHODS and _is_json(scope):
            messages = await _whole_body(receive)
            body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")
            problem = json_problem(body)
            receive = _replay(messages, receive)
        if problem is None:
            await self.app(scope, receive, send)
            return
        response = await error_response(Request(scope, receive), InvalidInput(problem))
        await response(scope, receive, send)
