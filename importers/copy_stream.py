"""One COPY FROM STDIN run by a thread of its own, fed chunks by the importing thread.

PostgreSQL parses the rows while the importing thread checks and encodes the next chunk.
A failure on either side ends both: the importer's abort makes the COPY fail (nothing it
sent is kept), and a failed COPY raises in the importer at its next ``put``.
"""

from __future__ import annotations

import queue
import threading
from typing import Any

COPY_READ_BYTES = 1 << 20
_POLL_S = 0.2


class _Aborted(Exception):
    """Raised inside COPY's read when the import gives up: COPY fails, nothing is kept."""


class CopyStream:
    """One COPY FROM STDIN run by a thread of its own, fed chunks by the importing thread."""

    def __init__(self, cursor: Any, sql: str) -> None:
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=4)
        self._chunk = memoryview(b"")
        self._eof = False
        self._aborted = threading.Event()
        self.error: BaseException | None = None
        self.rows = 0
        self._thread = threading.Thread(target=self._run, args=(cursor, sql), daemon=True)
        self._thread.start()

    def _run(self, cursor: Any, sql: str) -> None:
        try:
            cursor.copy_expert(sql, self, size=COPY_READ_BYTES)
            self.rows = int(cursor.rowcount)
        except BaseException as exc:  # raised in the importing thread by ``put``/``finish``
            self.error = exc

    def read(self, size: int = -1) -> bytes:
        """Return the next bytes for COPY (``b""`` at the end), as a file object would."""
        while not self._chunk and not self._eof:
            try:
                chunk = self._queue.get(timeout=_POLL_S)
            except queue.Empty:
                if self._aborted.is_set():
                    raise _Aborted from None
                continue
            if chunk is None:
                self._eof = True
            else:
                self._chunk = memoryview(chunk)
        n = len(self._chunk) if size is None or size < 0 else size
        out, self._chunk = self._chunk[:n], self._chunk[n:]
        return bytes(out)

    def put(self, data: bytes | None) -> None:
        """Queue a chunk (None ends the COPY); raise what made the COPY fail, if it did."""
        while True:
            if self.error is not None:
                raise self.error
            try:
                self._queue.put(data, timeout=_POLL_S)
                return
            except queue.Full:
                continue

    def finish(self) -> int:
        """End the COPY, wait for PostgreSQL to take every row; return how many it took."""
        self.put(None)
        self._thread.join()
        if self.error is not None:
            raise self.error
        return self.rows

    def abort(self) -> None:
        """Make the COPY fail (if it still runs) and wait for its thread."""
        self._aborted.set()
        self._thread.join()
