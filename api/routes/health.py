"""Health of the service, open without login for monitoring."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import text

from api.deps import SessionDep

router = APIRouter(tags=["health"])


@router.get("/api/health")
def read_health(session: SessionDep) -> dict[str, Any]:
    """Return whether the API and its database answer."""
    postgis = session.scalar(text("SELECT postgis_lib_version()"))
    return {"status": "ok", "database": "ok", "postgis": postgis}
