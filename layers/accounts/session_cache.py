"""An in-process memory of resolved sessions, so most requests skip the database.

An entry lives ``ttl_s`` seconds at most, and never past its session's own end. A
revoked session or a changed user is forgotten when the database says so
(``layers.accounts.revocations`` hears it in every worker); while nobody listens the
cache is suspended and remembers nothing. Each forgetting moves ``generation`` on, and
an entry resolved before that is not stored, so a resolution that raced a revocation
cannot put the ended session back.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime

from layers.accounts.service import LiveSession


class SessionCache:
    """Remember token digest -> live session for ``ttl_s`` seconds, ``max_entries`` at most."""

    def __init__(self, ttl_s: float, max_entries: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, LiveSession]] = OrderedDict()
        self._lock = threading.Lock()
        self._generation = 0
        self._suspended = False
        # Called before each read, to apply the revocations that already arrived.
        self.before_read: Callable[[], object] | None = None

    @property
    def generation(self) -> int:
        """Return a number that changes whenever anything is forgotten."""
        return self._generation

    def get(self, digest: str) -> LiveSession | None:
        """Return the live session remembered for ``digest`` if it is still fresh."""
        if self.before_read is not None:
            self.before_read()
        with self._lock:
            entry = self._entries.get(digest)
            if entry is None:
                return None
            if entry[0] < time.monotonic():
                del self._entries[digest]
                return None
            return entry[1]

    def put(self, digest: str, live: LiveSession, *, generation: int) -> None:
        """Remember ``live``, unless something was forgotten since ``generation`` was read."""
        if self.ttl_s <= 0:
            return
        left_s = (live.ends_at - datetime.now(UTC)).total_seconds()
        with self._lock:
            if self._suspended or generation != self._generation or left_s <= 0:
                return
            self._entries[digest] = (time.monotonic() + min(self.ttl_s, left_s), live)
            self._entries.move_to_end(digest)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def drop(self, digest: str) -> None:
        """Forget the session stored as ``digest`` (logged out or revoked)."""
        with self._lock:
            self._generation += 1
            self._entries.pop(digest, None)

    def drop_user(self, user_id: int) -> None:
        """Forget every session of ``user_id`` (its password, role or state changed)."""
        with self._lock:
            self._generation += 1
            ended = [d for d, (_, live) in self._entries.items() if live.actor.user_id == user_id]
            for digest in ended:
                del self._entries[digest]

    def suspend(self) -> None:
        """Forget everything and remember nothing until ``resume`` (revocations unheard)."""
        with self._lock:
            self._generation += 1
            self._suspended = True
            self._entries.clear()

    def resume(self) -> None:
        """Forget everything, then remember again (revocations are heard from now on)."""
        with self._lock:
            self._generation += 1
            self._suspended = False
            self._entries.clear()
