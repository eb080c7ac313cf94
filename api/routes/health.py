"""Health of the service, open without login for monitoring."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from tiles.pool import TilePool

router = APIRouter(tags=["health"])


@router.get("/api/health")
async def read_health(request: Request) -> dict[str, Any]:
    """Return whether the API and its database answer.

    Asked on the event loop's own connections (the tile pool): it answers while every
    worker thread and pooled connection is busy with long queries.
    """
    pool: TilePool = request.app.state.tile_pool
    (postgis,) = await pool.fetch("SELECT postgis_lib_version()", {})
    return {"status": "ok", "database": "ok", "postgis": postgis}
