"""Prometheus metrics, for a scraper's token or an administrator (``operations:manage``)."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST

from api.access import AsyncRule, requires
from api.deps import get_settings
from api.routes.tiles import tile_actor
from layers.accounts.roles import Permission

router = APIRouter(tags=["operations"])


def _is_scraper(request: Request) -> bool:
    """Return whether the request carries the configured scrape token (in constant time)."""
    configured = get_settings(request).ops.metrics_token
    if configured is None:
        return False
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    expected = configured.get_secret_value().encode()
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), expected)


OPERATORS = requires(Permission.OPERATIONS)
# A scraper sends the configured token instead of a session (then no role applies).
MONITORS = AsyncRule("read the metrics", OPERATORS.roles, resolve=tile_actor, bypass=_is_scraper)


@router.get(
    "/metrics",
    dependencies=[Depends(MONITORS)],
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text"}},
)
async def read_metrics(request: Request) -> Response:
    """Return this worker's metrics in Prometheus's text format."""
    return Response(request.app.state.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
