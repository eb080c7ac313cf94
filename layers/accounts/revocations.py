"""Ended sessions and changed users, heard by every worker as their transaction commits.

Triggers (migration 0020) ``NOTIFY warroom_auth`` with ``s <token digest>`` when a
session is revoked or deleted and ``u <user id>`` when a user's password, role, scope,
state or second factor changes. Each worker forgets those entries of its session cache.
Before each read of the cache the worker asks the server for nothing on its listening
connection (one round trip, ~0.1 ms, no pool, no transaction): the answer comes after
every notification already committed, so a session ended by one worker is refused by the
very next request to any other, even one sent the moment the revoking request answered.
"""

from __future__ import annotations

import logging

from layers.accounts.session_cache import SessionCache
from layers.listener import ChannelListener

logger = logging.getLogger(__name__)

CHANNEL = "warroom_auth"


class RevocationListener(ChannelListener):
    """Keep ``cache`` free of ended sessions; suspend it whenever nothing is heard."""

    def __init__(self, dsn: str, cache: SessionCache) -> None:
        def forget(payload: str) -> None:
            kind, _, key = payload.partition(" ")
            if kind == "s":
                cache.drop(key)
            elif kind == "u" and key.isdigit():
                cache.drop_user(int(key))
            else:
                logger.warning("ignoring a malformed %s notification", CHANNEL)

        cache.suspend()  # nothing is trusted before the first LISTEN
        super().__init__(dsn, CHANNEL, on_payload=forget, on_listening=cache.resume,
                         on_lost=cache.suspend)  # fmt: skip
        cache.before_read = self.confirm

    def confirm(self) -> None:
        """Take in every revocation committed so far (a round trip on the listening line)."""
        self.catch_up(confirm=True)
