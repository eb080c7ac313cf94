"""Hear committed feature changes from PostgreSQL, in every worker process.

Triggers on the feature tables (migration 0002) ``NOTIFY`` the box of every statement's
changed rows; PostgreSQL delivers it to all listeners only once the write commits. One
thread per process listens (``layers.listener``) and hands each box to a callback (the
tile cache). While the connection is down notifications are lost, so every (re)connect
calls ``on_gap`` first (the tile cache then drops everything).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from layers.listener import ChannelListener
from tiles.sql import BBox

logger = logging.getLogger(__name__)

CHANNEL = "warroom_features"


def parse_notification(payload: str) -> tuple[str, BBox] | None:
    """Return ``(layer, (west, south, east, north))`` of a payload, None if malformed."""
    parts = payload.split()
    if len(parts) != 5:
        return None
    try:
        west, south, east, north = (float(p) for p in parts[1:])
    except ValueError:
        return None
    return parts[0], (west, south, east, north)


class ChangeListener(ChannelListener):
    """A daemon thread that LISTENs for feature changes and calls back with each box."""

    def __init__(
        self,
        dsn: str,
        on_change: Callable[[str, BBox], object],
        on_gap: Callable[[], object],
    ) -> None:
        def changed(payload: str) -> None:
            change = parse_notification(payload)
            if change is None:
                logger.warning("ignoring a malformed %s notification", CHANNEL)
            else:
                on_change(*change)

        super().__init__(dsn, CHANNEL, on_payload=changed, on_listening=on_gap)
