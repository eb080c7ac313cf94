"""The last server errors of this worker (5xx answers), kept in memory for the operations page.

Each keeps its request id, so the full story (a traceback too) is found in the JSON logs
by that id. Per worker process, like the metrics; nothing is written to the database,
which may be the very thing that is failing.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime

MAX_MESSAGE = 300
MAX_BODY = 4096  # of an error answer, to find its detail


@dataclass(frozen=True)
class RecentError:
    """One 5xx answer: when, which request, which route, what went wrong."""

    at: datetime
    request_id: str
    method: str
    route: str
    status: int
    message: str


def error_message(exc: BaseException | None, body: bytes) -> str:
    """Return one line saying what failed: the exception's first line, else the answer's detail.

    Only the first line: a database error's next lines hold its SQL and parameters.
    """
    if exc is not None:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return f"{type(exc).__name__}: {first}"[:MAX_MESSAGE]
    try:
        detail = json.loads(body).get("detail")
    except (ValueError, AttributeError):
        detail = None
    return str(detail)[:MAX_MESSAGE] if detail else "(no detail)"


class RecentErrors:
    """A ring of the last ``size`` server errors, newest kept, oldest dropped."""

    def __init__(self, size: int) -> None:
        self._errors: deque[RecentError] = deque(maxlen=size)
        self._lock = threading.Lock()

    def add(self, error: RecentError) -> None:
        """Keep ``error`` (dropping the oldest when full)."""
        with self._lock:
            self._errors.append(error)

    def latest(self, limit: int) -> list[RecentError]:
        """Return up to ``limit`` errors, newest first."""
        with self._lock:
            return list(reversed(self._errors))[:limit]
