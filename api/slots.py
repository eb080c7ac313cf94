"""How many expensive queries run at once in this worker: per user and in all.

Each spatial query holds a pooled database connection and a worker thread for as
long as it runs. Without a bound, sixteen broad questions of one planner take the
whole pool, and logins and every other read wait behind them. A query that would
pass ``queries_per_user`` for its user or ``queries_total`` for the worker gets a 429
with ``Retry-After`` at once, before its query runs. The counts are per
worker process: with ``--workers N`` a user may run N times as many.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from layers.settings import LimitSettings


class QuerySlots:
    """Counters of the expensive queries running now, by user."""

    def __init__(self, limits: LimitSettings) -> None:
        self._limits = limits
        self._lock = threading.Lock()
        self._running: Counter[str] = Counter()

    def _busy(self, user: str) -> HTTPException | None:
        limits = self._limits
        if self._running[user] >= limits.queries_per_user:
            message = (f"you already have {limits.queries_per_user} spatial queries running; "
                       "wait for one to finish")  # fmt: skip
        elif self._running.total() >= limits.queries_total:
            message = "the server is answering as many spatial queries as it can; try again shortly"
        else:
            return None
        return HTTPException(429, message, headers={"Retry-After": str(limits.retry_after_s)})

    @contextmanager
    def hold(self, user: str) -> Iterator[None]:
        """Hold one slot of ``user`` while the block runs, or raise a 429."""
        with self._lock:
            busy = self._busy(user)
            if busy is not None:
                raise busy
            self._running[user] += 1
        try:
            yield
        finally:
            with self._lock:
                self._running[user] -= 1
                if not self._running[user]:
                    del self._running[user]


def query_slots(request: Request) -> QuerySlots:
    """Return the app's spatial query slots."""
    slots: QuerySlots = request.app.state.query_slots
    return slots


QuerySlotsDep = Annotated[QuerySlots, Depends(query_slots)]
