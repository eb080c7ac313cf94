"""Hear PostgreSQL notifications on one channel, in every worker process.

Triggers ``NOTIFY`` a channel; PostgreSQL delivers it to every listener only once the
transaction commits. One daemon thread per channel and process listens and hands each
payload to a callback. While the connection is down notifications are lost, so every
(re)connect calls ``on_listening`` first and every loss ``on_lost``.
"""

from __future__ import annotations

import logging
import select
import threading
from collections.abc import Callable

import psycopg2
from psycopg2.extensions import connection as Connection

logger = logging.getLogger(__name__)

RECONNECT_S = 1.0
WAKE_S = 1.0
# A server that vanishes without closing the connection is noticed within seconds.
_KEEPALIVE = {"keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 1,
              "keepalives_count": 3, "tcp_user_timeout": 5000, "connect_timeout": 5}  # fmt: skip


def _nothing() -> None:
    return None


class ChannelListener:
    """A daemon thread that LISTENs on ``channel`` and calls back with each payload."""

    def __init__(
        self,
        dsn: str,
        channel: str,
        on_payload: Callable[[str], object],
        on_listening: Callable[[], object],
        on_lost: Callable[[], object] = _nothing,
    ) -> None:
        self._dsn = dsn
        self._channel = channel
        self._on_payload = on_payload
        self._on_listening = on_listening
        self._on_lost = on_lost
        self._stopping = threading.Event()
        self._listening = threading.Event()
        self._conn: Connection | None = None
        self._lock = threading.Lock()  # one reader of the connection's notifications at a time
        self._thread = threading.Thread(target=self._run, name=f"{channel}-listener", daemon=True)

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

    def catch_up(self, *, confirm: bool = False) -> None:
        """Hand over the notifications that have reached this process.

        With ``confirm``, first ask the server for nothing on the listening connection:
        its answer comes after every notification of a transaction that committed before
        the question (the server sends pending ones before reading a command), so none
        can still be on its way. Without, take only what has arrived, without waiting.
        """
        conn = self._conn
        if conn is None:
            return
        try:
            self._receive(conn, confirm=confirm)
        except psycopg2.Error:  # the thread reconnects; until then nothing is trusted
            self._lost()

    def _run(self) -> None:
        while not self._stopping.is_set():
            conn: Connection | None = None
            try:
                conn = psycopg2.connect(self._dsn, application_name=f"{self._channel}-listener",
                                        **_KEEPALIVE)  # fmt: skip
                conn.autocommit = True
                with conn.cursor() as cursor:
                    cursor.execute(f"LISTEN {self._channel}")
                self._on_listening()
                self._conn = conn
                self._listening.set()
                self._drain(conn)
            except psycopg2.Error:
                logger.warning("listener of %s lost its connection; reconnecting", self._channel)
                self._stopping.wait(RECONNECT_S)
            finally:
                self._lost()
                if conn is not None:
                    conn.close()

    def _lost(self) -> None:
        self._conn = None
        if self._listening.is_set():
            self._listening.clear()
        self._on_lost()

    def _drain(self, conn: Connection) -> None:
        while not self._stopping.is_set():
            if select.select([conn], [], [], WAKE_S) != ([], [], []):
                self._receive(conn)

    def _receive(self, conn: Connection, *, confirm: bool = False) -> None:
        with self._lock:
            if confirm:
                with conn.cursor() as cursor:
                    cursor.execute("SELECT 1")
            conn.poll()
            while conn.notifies:
                payload = conn.notifies.pop(0).payload
                try:
                    self._on_payload(payload)
                except Exception:  # a failing callback must not stop the listener
                    logger.exception("callback of %s failed on %r", self._channel, payload)
