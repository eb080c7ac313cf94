"""Hear new events from PostgreSQL, in every worker process.

A statement trigger on ``events`` (migration 0026) ``NOTIFY warroom_events`` with the
highest id it inserted; PostgreSQL delivers it to every listener once the transaction
commits. While the connection is down notifications are lost, so every (re)connect calls
``on_gap`` first (the stream then reads the newest id from the table).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from layers.listener import ChannelListener

logger = logging.getLogger(__name__)

CHANNEL = "warroom_events"


def parse_notification(payload: str) -> int | None:
    """Return the event id a payload announces, None if malformed."""
    return int(payload) if payload.isascii() and payload.isdigit() else None


class EventListener(ChannelListener):
    """A daemon thread that LISTENs for new events and calls back with each newest id."""

    def __init__(
        self, dsn: str, on_event: Callable[[int], object], on_gap: Callable[[], object]
    ) -> None:
        def heard(payload: str) -> None:
            newest = parse_notification(payload)
            if newest is None:
                logger.warning("ignoring a malformed %s notification", CHANNEL)
            else:
                on_event(newest)

        super().__init__(dsn, CHANNEL, on_payload=heard, on_listening=on_gap)
