"""Hear committed feature changes from PostgreSQL, in every worker process.

Triggers on the feature tables (migration 0002) ``NOTIFY`` the box of every statement's
changed rows; PostgreSQL delivers it to all listeners only once the write commits. One
thread per process listens and hands each box to a callback (the tile cache). While the
connection is down notifications are lost, so every (re)connect calls ``on_gap`` first
(the tile cache then drops everything).
"""

from __future__ import annotations

import logging
import select
import threading
from collections.abc import Callable

import psycopg2
from psycopg2.extensions import connection as Connection

from tiles.sql import BBox

logger = logging.getLogger(__name__)

CHANNEL = "warroom_features"
RECONNECT_S = 1.0
WAKE_S = 1.0


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


class ChangeListener:
    """A daemon thread that LISTENs for feature changes and calls back with each box."""

    def __init__(
        self,
        dsn: str,
        on_change: Callable[[str, BBox], object],
        on_gap: Callable[[], object],
    ) -> None:
        self._dsn = dsn
        self._on_change = on_change
        self._on_gap = on_gap
        self._stopping = threading.Event()
        self._listening = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tile-change-listener", daemon=True)

    def start(self) -> None:
        """Start listening in the background."""
        self._thread.start()

    def wait_listening(self, timeout_s: float) -> bool:
        """Block until the listener is connected (or ``timeout_s`` passed); return whether."""
        return self._listening.wait(timeout_s)

    def stop(self) -> None:
        """Stop listening and wait for the thread to end."""
        self._stopping.set()
        self._thread.join(timeout=WAKE_S * 5)

    def _run(self) -> None:
        while not self._stopping.is_set():
            conn: Connection | None = None
            try:
                conn = psycopg2.connect(self._dsn, application_name="warroom-tile-listener")
                conn.autocommit = True
                with conn.cursor() as cursor:
                    cursor.execute(f"LISTEN {CHANNEL}")
                self._on_gap()
                self._listening.set()
                self._drain(conn)
            except psycopg2.Error:
                logger.warning("tile change listener lost its connection; reconnecting")
                self._stopping.wait(RECONNECT_S)
            finally:
                self._listening.clear()
                if conn is not None:
                    conn.close()

    def _drain(self, conn: Connection) -> None:
        while not self._stopping.is_set():
            if select.select([conn], [], [], WAKE_S) == ([], [], []):
                continue
            conn.poll()
            while conn.notifies:
                change = parse_notification(conn.notifies.pop(0).payload)
                if change is None:
                    logger.warning("ignoring a malformed %s notification", CHANNEL)
                    continue
                try:
                    self._on_change(*change)
                except Exception:  # a failing callback must not stop the listener
                    logger.exception("tile change callback failed on %r", change)
