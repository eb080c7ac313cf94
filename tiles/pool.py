"""The tile connection pool: psycopg2's asynchronous connections, driven by the event loop.

A tile is one statement in one round trip, run without a hop to a worker thread: a
connection opened with ``async_=1`` never blocks, each step is a ``poll()`` and the
event loop waits on its socket. Such connections are always in autocommit (no BEGIN, no
COMMIT); each is set up once, in its startup ``options``, with what tile SQL wants: no
parallel workers (each pays ~10 ms of PostGIS start-up, a loss on tile-sized queries),
no JIT, a statement timeout. At most ``size`` statements run at once; an idle connection
is reused last in, first out (the last-used backend has warm caches: ~0.5 ms a tile
less). There is no pre-ping: a pooled connection found dead is dropped and the statement
asked once more on a new one.

Errors come out as SQLAlchemy's ``DBAPIError`` family, as from any engine, so a database
that is down is a 503 like everywhere else.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import psycopg2
from psycopg2.extensions import POLL_OK, POLL_READ, POLL_WRITE, make_dsn
from psycopg2.extensions import connection as Connection
from sqlalchemy import URL, ClauseElement, make_url
from sqlalchemy.dialects.postgresql import psycopg2 as psycopg2_dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler

APPLICATION_NAME = "warroom-tiles"
Row = tuple[Any, ...]
_DIALECT = psycopg2_dialect.dialect()


def driver_sql(
    query: ClauseElement, *, placeholders: Mapping[str, Any]
) -> tuple[str, dict[str, Any]]:
    """Return ``query`` as psycopg2 text and the values of the parameters of its literals.

    ``placeholders`` are example values of the parameters given on each run; they are
    left out of the values. Lists (``IN``) are spelled out, values processed by their
    types as an engine would.
    """
    compiled = query.compile(dialect=_DIALECT)
    assert isinstance(compiled, SQLCompiler)
    state = compiled.construct_expanded_state(dict(placeholders))
    values = {
        name: state.processors[name](value) if name in state.processors else value
        for name, value in state.parameters.items()
        if name not in placeholders
    }
    return state.statement, values


def _wake(ready: asyncio.Future[None]) -> None:
    if not ready.done():
        ready.set_result(None)


async def _ready(conn: Connection) -> None:
    """Drive ``conn`` until its pending step (connect or statement) is done."""
    loop = asyncio.get_running_loop()
    while (state := conn.poll()) != POLL_OK:
        if state == POLL_READ:
            watch, unwatch = loop.add_reader, loop.remove_reader
        elif state == POLL_WRITE:
            watch, unwatch = loop.add_writer, loop.remove_writer
        else:
            raise psycopg2.OperationalError(f"unexpected poll state {state}")
        fd, ready = conn.fileno(), loop.create_future()
        watch(fd, _wake, ready)
        try:
            await ready
        finally:
            unwatch(fd)


async def _run(conn: Connection, sql: str, params: Mapping[str, Any]) -> Row:
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        await _ready(conn)
        row = cursor.fetchone()
    if row is None:
        raise psycopg2.ProgrammingError("a tile statement returned no row")
    return tuple(row)


def _wrapped(error: psycopg2.Error, sql: str | None, *, dead: bool) -> Exception:
    wrapped = DBAPIError.instance(sql, None, error, psycopg2.Error, connection_invalidated=dead)
    assert isinstance(wrapped, Exception)
    return wrapped


class TilePool:
    """At most ``size`` asynchronous connections to the database at ``url``, ``keep`` idle."""

    def __init__(
        self, url: str | URL, *, size: int, keep: int, statement_timeout_ms: int,
        connect_timeout_s: float, application_name: str = APPLICATION_NAME,
    ) -> None:  # fmt: skip
        options = (
            f"-c statement_timeout={statement_timeout_ms} -c jit=off"
            " -c max_parallel_workers_per_gather=0"
        )
        libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self._dsn = make_dsn(libpq, application_name=application_name, options=options)
        self.size = size
        self.connect_timeout_s = connect_timeout_s
        self._slots = asyncio.Semaphore(size)
        self._keep = keep
        self._idle: list[Connection] = []
        self._closed = False
        self.in_use = 0  # slots taken: statements running or connecting (for the metrics)

    @property
    def idle(self) -> int:
        """Return how many open connections wait in the pool."""
        return len(self._idle)

    async def fetch(self, sql: str, params: Mapping[str, Any]) -> Row:
        """Run ``sql`` (psycopg2 ``%(name)s`` parameters) and return its one row."""
        async with self._slots:
            self.in_use += 1
            try:
                if self._idle:
                    try:
                        return await self._use(self._idle.pop(), sql, params)
                    except DBAPIError as error:
                        if not error.connection_invalidated:
                            raise
                    # it had died in the pool (a restart, a terminated backend): ask once more
                return await self._use(await self._connect(), sql, params)
            finally:
                self.in_use -= 1

    async def _connect(self) -> Connection:
        conn: Connection | None = None
        try:
            conn = psycopg2.connect(self._dsn, async_=1)
            # libpq's connect_timeout holds for blocking connects only: bound this one here
            await asyncio.wait_for(_ready(conn), self.connect_timeout_s)
        except BaseException as error:
            if conn is not None:
                conn.close()
            if isinstance(error, TimeoutError):
                error = psycopg2.OperationalError(
                    f"timeout expired: no answer from the database in {self.connect_timeout_s:g} s"
                )
            if isinstance(error, psycopg2.Error):
                raise _wrapped(error, None, dead=True) from error
            raise
        return conn

    async def _use(self, conn: Connection, sql: str, params: Mapping[str, Any]) -> Row:
        try:
            row = await _run(conn, sql, params)
        except psycopg2.Error as error:
            self._release(conn)  # an error in autocommit leaves a live connection usable
            raise _wrapped(error, sql, dead=bool(conn.closed)) from error
        except BaseException:
            conn.close()  # cancelled mid-statement: its state is unknown
            raise
        self._release(conn)
        return row

    def _release(self, conn: Connection) -> None:
        if conn.closed or self._closed or len(self._idle) >= self._keep:
            conn.close()
        else:
            self._idle.append(conn)

    def close(self) -> None:
        """Close the idle connections; those in use close when their statement ends."""
        self._closed = True
        while self._idle:
            self._idle.pop().close()
