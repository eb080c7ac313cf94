"""One hub per worker: hears new event ids, reads each batch once, hands it to its clients.

Fan-out goes through PostgreSQL: every commit that appends events notifies every
worker's one listening connection (``layers.stream.listener``), whoever wrote them. The
hub then reads the new rows once, asks once per group of clients with the same view
(actor and filters) which of them that group may see, and queues each message on its
clients. Ids become visible in id order (migration 0026), so reading ``(delivered,
announced]`` after an announcement misses nothing; after a lost listening connection the
hub reads the newest id from the table instead. A client's queue is bounded: one that
falls behind is ended with a last message and resumes with ``Last-Event-ID``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from api.live.messages import SLOW, STOPPING, end_message, event_message
from layers.accounts.scope import Actor, ScopeKind
from layers.settings import StreamSettings
from layers.stream.filters import EventFilter
from layers.stream.listener import EventListener
from layers.stream.reading import matching_ids, newest_event_id, rows_between

logger = logging.getLogger(__name__)

RETRY_S = 1.0  # after a failed read of the log
READY_S = 5.0  # how long a new client waits for the hub's first read


class Unavailable(Exception):
    """The hub cannot take a client now: too many, or not started."""


@dataclass(frozen=True)
class Delivery:
    """An event's message for a client."""

    id: int
    text: bytes


@dataclass(frozen=True)
class Ending:
    """The last message of a stream the server closes."""

    text: bytes


class Tick:
    """A heartbeat's turn: the stream says it is alive if quiet, and checks its session."""


TICK = Tick()


@dataclass(eq=False)
class Group:
    """Clients with the same view of the log: one query a batch serves them all."""

    actor: Actor
    wanted: EventFilter
    clients: set[Client] = field(default_factory=set)


class Client:
    """One open stream: what waits to be sent to it, at most ``capacity`` events."""

    def __init__(self, group: Group, capacity: int, start: int) -> None:
        self.group = group
        self.start = start  # events up to here come from the table, later ones from the queue
        self.queue: asyncio.Queue[Delivery | Ending | Tick] = asyncio.Queue()
        self._capacity = capacity
        self.ended = False

    def offer(self, delivery: Delivery) -> None:
        """Queue an event, or end the stream if the client fell too far behind."""
        if self.ended:
            return
        if self.queue.qsize() >= self._capacity:
            detail = f"more than {self._capacity} events waited; reconnect with Last-Event-ID"
            self.end(Ending(end_message(SLOW, detail)))
            return
        self.queue.put_nowait(delivery)

    def tick(self) -> None:
        """Queue a heartbeat's turn (one timer for every stream, not one each)."""
        if not self.ended:
            self.queue.put_nowait(TICK)

    def end(self, ending: Ending) -> None:
        """Drop what waits and queue the stream's last message."""
        if self.ended:
            return
        self.ended = True
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(ending)


def _view(actor: Actor, wanted: EventFilter) -> tuple[Any, ...]:
    """Return what decides which events a client gets (city-wide: the role, not the user)."""
    user = None if actor.scope.kind is ScopeKind.CITY else actor.user_id
    return (actor.role, actor.scope, user, wanted)


@dataclass(frozen=True)
class _Batch:
    upto: int
    messages: dict[int, bytes]
    ids: dict[Group, list[int]]


class EventHub:
    """This worker's listener, its groups of clients and the task that feeds them."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        dsn: str,
        settings: StreamSettings,
        on_count: Callable[[int], object],
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._on_count = on_count
        self._listener = EventListener(dsn, on_event=self._heard, on_gap=self._lost)
        self._groups: dict[tuple[Any, ...], Group] = {}
        self._count = 0
        self._announced = 0  # the highest id notified
        self._delivered: int | None = None  # the highest id handed to every group
        self._frontier = 0  # the highest id whose delivery has begun: new clients start here
        self._gap = True  # notifications may have been missed: read the newest id
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()
        self._ready = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def __len__(self) -> int:
        """Return how many clients are connected."""
        return self._count

    async def start(self) -> None:
        """Listen and feed clients from now on."""
        self._loop = asyncio.get_running_loop()
        self._listener.start()
        self._tasks = [asyncio.create_task(self._feed(), name="event-hub"),
                       asyncio.create_task(self._beat(), name="event-hub-beat")]  # fmt: skip

    async def stop(self) -> None:
        """End every stream and stop listening."""
        for group in list(self._groups.values()):
            for client in list(group.clients):
                client.end(Ending(end_message(STOPPING, "the server is stopping; reconnect")))
        for task in self._tasks:
            task.cancel()
        await asyncio.to_thread(self._listener.stop)

    async def subscribe(self, actor: Actor, wanted: EventFilter) -> Client:
        """Return a new client of ``actor``; events after its ``start`` reach its queue."""
        if self._count >= self._settings.max_clients:
            raise Unavailable(f"this worker serves {self._settings.max_clients} streams already")
        try:
            await asyncio.wait_for(self._ready.wait(), READY_S)
        except TimeoutError:
            raise Unavailable("the event log cannot be read now") from None
        key = _view(actor, wanted)
        group = self._groups.setdefault(key, Group(actor, wanted))
        client = Client(group, self._settings.client_queue, self._frontier)
        group.clients.add(client)
        self._count += 1
        self._on_count(self._count)
        return client

    def unsubscribe(self, client: Client) -> None:
        """Forget a client whose stream has closed."""
        group = client.group
        if client not in group.clients:
            return
        group.clients.discard(client)
        if not group.clients:
            self._groups.pop(_view(group.actor, group.wanted), None)
        self._count -= 1
        self._on_count(self._count)

    # The listener's thread calls these two; the loop does the rest.
    def _heard(self, newest: int) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._announce, newest)

    def _lost(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._announce, None)

    def _announce(self, newest: int | None) -> None:
        if newest is None:
            self._gap = True
        else:
            self._announced = max(self._announced, newest)
        self._wake.set()

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self._settings.heartbeat_s)
            for group in list(self._groups.values()):
                for client in list(group.clients):
                    client.tick()

    async def _feed(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self._catch_up()
            except SQLAlchemyError:
                logger.warning("the event hub could not read the log; retrying", exc_info=True)
                await asyncio.sleep(RETRY_S)
                self._wake.set()

    async def _catch_up(self) -> None:
        if self._gap:
            newest = await asyncio.to_thread(self._newest)
            self._gap = False
            self._announced = max(self._announced, newest)
        if self._delivered is None:  # the first read: clients start from here
            self._delivered = self._frontier = self._announced
            self._ready.set()
        # a failed read leaves _delivered behind and is read again (its new clients skip
        # what their backlog sent)
        while self._delivered < self._announced:
            upto = self._frontier = self._announced
            groups = [g for g in self._groups.values() if g.clients]
            batch = await asyncio.to_thread(self._read, groups, self._delivered, upto)
            for group, ids in batch.ids.items():
                for event_id in ids:
                    delivery = Delivery(event_id, batch.messages[event_id])
                    for client in list(group.clients):
                        client.offer(delivery)
            self._delivered = batch.upto

    def _newest(self) -> int:
        with self._sessions() as session:
            return newest_event_id(session)

    def _read(self, groups: list[Group], after: int, upto: int) -> _Batch:
        """Read the events in ``(after, upto]`` (a page of them) and which each group sees."""
        if not groups:
            return _Batch(upto, {}, {})
        page = self._settings.page_size
        with self._sessions() as session:
            rows = rows_between(session=session, after=after, upto=upto, limit=page)
            if len(rows) == page:
                upto = rows[-1].id
            ids = {
                group: matching_ids(session=session, actor=group.actor, wanted=group.wanted,
                                    after=after, upto=upto)
                for group in groups
            }  # fmt: skip
        return _Batch(upto, {row.id: event_message(row) for row in rows}, ids)
