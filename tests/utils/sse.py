"""Read a Server-Sent Events stream over real HTTP in a thread, message by message."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

WAIT_S = 20.0  # a guard against hanging, not a measure: messages come in milliseconds


@dataclass
class Message:
    """One SSE message: its fields as sent (``comment`` for a comment line)."""

    id: str | None = None
    event: str | None = None
    data: str = ""
    retry: str | None = None
    comment: str | None = None
    fields: list[str] = field(default_factory=list)

    @property
    def is_event(self) -> bool:
        """Return whether this is an event of the log (an id and data, no control name)."""
        return self.id is not None and bool(self.data) and self.event is None

    def json(self) -> Any:
        """Return the data as JSON."""
        return json.loads(self.data)


def parse(lines: list[str]) -> Message:
    """Return the message of one block of lines (between blank lines)."""
    message = Message()
    for line in lines:
        if line.startswith(":"):
            message.comment = line[1:].strip()
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        message.fields.append(name)
        if name == "data":
            message.data = f"{message.data}\n{value}" if message.data else value
        elif name in ("id", "event", "retry"):
            setattr(message, name, value)
    return message


class Stream:
    """An open ``GET`` of an event stream; its messages arrive in ``inbox`` as they come."""

    def __init__(self, url: str, headers: dict[str, str], params: dict[str, Any]) -> None:
        self.inbox: queue.Queue[Message | None] = queue.Queue()  # None: the stream closed
        self.status: int | None = None
        self.body = ""
        self.last_id: str | None = None  # as a browser keeps it: the last id field read
        self._opened = threading.Event()
        self._http = httpx.Client(timeout=httpx.Timeout(WAIT_S, read=None))
        self._request = self._http.build_request("GET", url, headers=headers, params=params)
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        assert self._opened.wait(WAIT_S), "no answer to the stream request"

    def _read(self) -> None:
        try:
            response = self._http.send(self._request, stream=True)
            self.status = response.status_code
            if response.status_code != 200:
                self.body = response.read().decode()
                self._opened.set()
                return
            self._opened.set()
            block: list[str] = []
            for line in response.iter_lines():
                if line:
                    block.append(line)
                elif block:
                    self.inbox.put(parse(block))
                    block = []
        except httpx.HTTPError:
            pass  # closed by the test
        finally:
            self._opened.set()
            self.inbox.put(None)

    def next(self) -> Message | None:
        """Return the next message (None once the stream closed); fail if none comes."""
        try:
            message = self.inbox.get(timeout=WAIT_S)
        except queue.Empty:
            raise AssertionError(f"no message within {WAIT_S} s") from None
        if message is not None and message.id is not None:
            self.last_id = message.id
        return message

    def events(self, count: int) -> list[Message]:
        """Return the next ``count`` events of the log, skipping other messages."""
        found: list[Message] = []
        deadline = time.monotonic() + WAIT_S  # heartbeats alone must not keep it waiting
        while len(found) < count:
            assert time.monotonic() < deadline, f"{len(found)} of {count} events came"
            message = self.next()
            assert message is not None, f"the stream closed after {len(found)} of {count} events"
            if message.is_event:
                found.append(message)
        return found

    def until(self, event: str) -> Message:
        """Return the next control message named ``event`` (``end``), skipping the rest."""
        deadline = time.monotonic() + WAIT_S
        while True:
            assert time.monotonic() < deadline, f"no {event!r} message came"
            message = self.next()
            assert message is not None, f"the stream closed before an {event!r} message"
            if message.event == event:
                return message

    def close(self) -> None:
        """Cut the connection from the client's side."""
        self._http.close()
        self._thread.join(timeout=WAIT_S)


@contextmanager
def open_stream(base_url: str, headers: dict[str, str], **params: Any) -> Iterator[Stream]:
    """Open ``/api/events/stream`` with ``params``; cut it when the block ends."""
    stream = Stream(f"{base_url}/api/events/stream", headers, params)
    try:
        yield stream
    finally:
        stream.close()
