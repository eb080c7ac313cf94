"""The request being served, as seen by logs and error bodies: its id and its user.

The id comes from the caller's ``X-Request-ID`` when it is short and plain (a proxy's or
a client's, so one id follows a request across systems), otherwise it is made here.
"""

from __future__ import annotations

import itertools
import os
import re
import secrets
from contextvars import ContextVar, Token
from dataclasses import dataclass

MAX_REQUEST_ID_LENGTH = 128
# Letters, digits and . _ - only: nothing that could break a log line or a header.
_SAFE_ID = re.compile(rf"[A-Za-z0-9._-]{{1,{MAX_REQUEST_ID_LENGTH}}}")


@dataclass(slots=True)
class RequestContext:
    """What the logs say about the request being served."""

    request_id: str
    user_id: int | None = None


class _MadeIds:
    """Request ids made here: a random prefix of the process and a count.

    Unique without a uuid4 per request (~4 us here, a tenth of a cached tile); ids name
    requests, they are no secret.
    """

    def __init__(self) -> None:
        self.reseed()

    def reseed(self) -> None:
        """Start a new prefix and count (a forked worker must not repeat its parent's)."""
        self._prefix = secrets.token_hex(8)
        self._count = itertools.count(1)

    def next(self) -> str:
        """Return a new id: 32 hexadecimal digits."""
        return f"{self._prefix}{next(self._count):016x}"


_made = _MadeIds()
os.register_at_fork(after_in_child=_made.reseed)
_current: ContextVar[RequestContext | None] = ContextVar("warroom_request", default=None)


def request_id_from(header: bytes | None) -> str:
    """Return the caller's request id when it is safe to reuse, otherwise a new one."""
    if header is not None:
        text = header.decode("latin-1")
        if _SAFE_ID.fullmatch(text):
            return text
    return _made.next()


def current_request() -> RequestContext | None:
    """Return the context of the request being served, or None outside a request."""
    return _current.get()


def current_request_id() -> str | None:
    """Return the id of the request being served, or None outside a request."""
    context = _current.get()
    return None if context is None else context.request_id


def note_user(user_id: int | None) -> None:
    """Record who the request being served is for (its log line names them)."""
    context = _current.get()
    if context is not None:
        context.user_id = user_id


def enter_request(context: RequestContext) -> Token[RequestContext | None]:
    """Make ``context`` the current request's; return the token that ``leave_request`` takes."""
    return _current.set(context)


def leave_request(token: Token[RequestContext | None]) -> None:
    """Restore the context from before ``enter_request``."""
    _current.reset(token)
