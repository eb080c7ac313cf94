"""Prometheus metrics, for a scraper's token or an admin, security admin or auditor."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST

from api.deps import get_settings
from api.routes.tiles import tile_actor
from layers.accounts.roles import Role
from layers.errors import PermissionDenied

router = APIRouter(tags=["operations"])

MONITOR_ROLES = frozenset({Role.ADMIN, Role.SECURITY_ADMIN, Role.AUDITOR})


def _is_scraper(request: Request) -> bool:
    """Return whether the request carries the configured scrape token (in constant time)."""
    configured = get_settings(request).ops.metrics_token
    if configured is None:
        return False
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    expected = configured.get_secret_value().encode()
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), expected)


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text"}},
)
async def read_metrics(request: Request) -> Response:
    """Return this worker's metrics in Prometheus's text format."""
    if not _is_scraper(request):
        actor = await tile_actor(request)  # 401 without a live session
        if actor.role not in MONITOR_ROLES:
            raise PermissionDenied(f"role {actor.role.value!r} may not read the metrics")
    return Response(request.app.state.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
