"""A short-lived in-process memory of resolved sessions, so most requests skip the database.

A revoked or expired session keeps working in *other* worker processes for at most
``ttl_s`` seconds (the worker that revokes it forgets it at once); that delay is the
price of not reading the session table on every tile request.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from layers.accounts.scope import Actor


class SessionCache:
    """Remember token digest -> actor for ``ttl_s`` seconds, at most ``max_entries`` of them."""

    def __init__(self, ttl_s: float, max_entries: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, Actor]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, digest: str) -> Actor | None:
        """Return the actor remembered for ``digest`` if it is still fresh."""
        with self._lock:
            entry = self._entries.get(digest)
            if entry is None:
                return None
            if entry[0] < time.monotonic():
                del self._entries[digest]
                return None
            return entry[1]

    def put(self, digest: str, actor: Actor) -> None:
        """Remember ``actor`` for ``digest``; the oldest entries go when the cache is full."""
        if self.ttl_s <= 0:
            return
        with self._lock:
            self._entries[digest] = (time.monotonic() + self.ttl_s, actor)
            self._entries.move_to_end(digest)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def drop(self, digest: str) -> None:
        """Forget ``digest`` (after logout)."""
        with self._lock:
            self._entries.pop(digest, None)
