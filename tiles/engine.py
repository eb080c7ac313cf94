"""The tile connection pool: every tile is one statement in one round trip.

Its connections are in autocommit (no BEGIN, no COMMIT) and set up once with what tile
SQL wants: no parallel workers (each pays ~10 ms of PostGIS start-up, a loss on
tile-sized queries), no JIT, a statement timeout. There is no pre-ping round trip on
checkout; a connection found dead is dropped and the tile asked once more instead.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import URL, Engine, Executable, create_engine
from sqlalchemy.exc import DBAPIError

STATEMENTS_KEPT = 4096  # tile statements kept built (tiles.render) and compiled (here)


def make_tile_engine(
    url: str | URL, *, pool_size: int, max_overflow: int, statement_timeout_ms: int
) -> Engine:
    """Return the pooled engine tiles are read through."""
    options = (
        f"-c statement_timeout={statement_timeout_ms} -c jit=off"
        " -c max_parallel_workers_per_gather=0"
    )
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=False,
        query_cache_size=STATEMENTS_KEPT,
        pool_use_lifo=True,  # the last-used backend has warm caches: ~0.5 ms a tile less
        isolation_level="AUTOCOMMIT",
        connect_args={"application_name": "warroom-tiles", "options": options},
    )


def _fetch(engine: Engine, query: Executable, params: dict[str, Any]) -> bytes:
    with engine.connect() as conn:
        body = conn.execute(query, params).scalar()
    return bytes(body or b"")


def fetch_tile(engine: Engine, query: Executable, params: dict[str, Any]) -> bytes:
    """Run a tile statement (one ``bytea``) with its bind parameters; return the bytes."""
    try:
        return _fetch(engine, query, params)
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
    # the connection had died in the pool and SQLAlchemy has dropped it: ask once more
    return _fetch(engine, query, params)
