"""Health and readiness of the service, open without login for monitoring.

Both ask the database on a connection of their own (the probe pool: one asynchronous
connection driven by the event loop), so they answer while every pooled connection,
worker thread and tile connection is busy.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from alembic.script import ScriptDirectory
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy import URL
from sqlalchemy.exc import DBAPIError

from api.access import PUBLIC
from layers.migrate import MIGRATIONS_DIR
from tiles.pool import TilePool

router = APIRouter(tags=["health"], dependencies=[Depends(PUBLIC)])
logger = logging.getLogger(__name__)

PROBE_TIMEOUT_MS = 5_000
UNDEFINED_TABLE = "42P01"  # SQLSTATE: no alembic_version table, no migration ever applied


def make_probe_pool(url: str | URL, connect_timeout_s: float) -> TilePool:
    """Return the health checks' own pool: one connection, kept open."""
    return TilePool(url, size=1, keep=1, statement_timeout_ms=PROBE_TIMEOUT_MS,
                    connect_timeout_s=connect_timeout_s,
                    application_name="warroom-probe")  # fmt: skip


@functools.cache
def _migrations() -> tuple[frozenset[str], frozenset[str]]:
    """Return the head revisions and all revisions of the migration scripts (read once)."""
    script = ScriptDirectory(str(MIGRATIONS_DIR))
    return frozenset(script.get_heads()), frozenset(r.revision for r in script.walk_revisions())


@router.get("/api/health")
async def read_health(request: Request) -> dict[str, Any]:
    """Return that the API is alive (200 even while its database is down) and whether it answers.

    A liveness probe must not fail with the database: restarting the process would not
    bring the database back, and the process recovers by itself when it returns.
    """
    probe: TilePool = request.app.state.probe_pool
    try:
        (postgis,) = await probe.fetch("SELECT postgis_lib_version()", {})
    except DBAPIError as exc:
        logger.warning("health: the database does not answer: %s", exc.orig)
        return {"status": "ok", "database": "unreachable"}
    return {"status": "ok", "database": "ok", "postgis": postgis}


def _not_ready(detail: str, **checks: str) -> JSONResponse:
    body = {"status": "not ready", "detail": detail, "code": "NotReady", **checks}
    return JSONResponse(body, status_code=503, headers={"Retry-After": "5"})


@router.get(
    "/api/ready",
    responses={503: {"description": "Not ready: the database is unreachable or its schema "
                                    "is not this code's; `detail` says which"}},
)  # fmt: skip
async def read_ready(request: Request) -> JSONResponse:
    """Return whether this process can serve: its database answers, its schema is current."""
    probe: TilePool = request.app.state.probe_pool
    try:
        (applied,) = await probe.fetch("SELECT array_agg(version_num) FROM alembic_version", {})
    except DBAPIError as exc:
        if getattr(exc.orig, "pgcode", None) == UNDEFINED_TABLE:
            return _not_ready("the database has no migrations applied: run 'warroom migrate'",
                              database="ok", migrations="none")  # fmt: skip
        logger.warning("not ready: the database does not answer: %s", exc.orig)
        return _not_ready("the database does not answer", database="unreachable")
    heads, known = _migrations()
    revisions = frozenset(applied or ())
    expected = ", ".join(sorted(heads))
    found = ", ".join(sorted(revisions)) or "none"
    if revisions - known:
        return _not_ready(f"the database schema is at {found}, which this code does not know "
                          f"(its latest is {expected}): deploy the newer code",
                          database="ok", migrations="ahead")  # fmt: skip
    if revisions != heads:
        return _not_ready(f"the database schema is at {found}, this code needs {expected}: "
                          "run 'warroom migrate'", database="ok", migrations="behind")  # fmt: skip
    return JSONResponse({"status": "ready", "database": "ok", "migrations": "current",
                         "revision": expected})  # fmt: skip
