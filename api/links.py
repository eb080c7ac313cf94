"""Absolute links from the configured public URL or a trusted Host, never from any Host sent.

A link built from an attacker's ``Host: evil.example`` would send the next client (GDAL
following ``next``, a map fetching TileJSON ``tiles``, a proxy cache) to that host.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.datastructures import URL, Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from layers.settings import Settings


def public_base(request: Request) -> str:
    """Return the app's absolute base URL without a trailing slash."""
    settings: Settings = request.app.state.settings
    return settings.public_url or str(request.base_url).rstrip("/")


def public_href(request: Request, url: URL | None = None) -> str:
    """Return ``url`` (by default the request's own) as a link on the public base URL."""
    url = url or request.url
    path = url.path.removeprefix(request.scope.get("root_path", ""))
    return f"{public_base(request)}{path}" + (f"?{url.query}" if url.query else "")


def proxy_options(settings: Settings) -> dict[str, Any]:
    """Return uvicorn's options believing X-Forwarded-* from the trusted proxies alone."""
    trusted = ",".join(settings.trusted_proxies)
    return {"proxy_headers": bool(trusted), "forwarded_allow_ips": trusted or None}


def host_allowed(host: str, patterns: Iterable[str]) -> bool:
    """Return whether a Host header (port and IPv6 brackets allowed) matches a pattern."""
    name = host.partition("]")[0].lstrip("[") if host.startswith("[") else host.split(":")[0]
    name = name.lower()
    for pattern in patterns:
        if pattern == "*" or name == pattern:
            return True
        if pattern.startswith("*.") and name.endswith(pattern[1:]):
            return True
    return False


class TrustedHosts:
    """ASGI middleware answering 400 to a request whose Host the app does not serve."""

    def __init__(self, app: ASGIApp, allowed: frozenset[str]) -> None:
        self.app = app
        self.allowed = allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass a request for a trusted host on; refuse any other."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if host_allowed(Headers(scope=scope).get("host", ""), self.allowed):
            await self.app(scope, receive, send)
            return
        response = JSONResponse(
            {"detail": "the Host header names a host this server does not answer for "
                       "(WARROOM_PUBLIC_URL, WARROOM_TRUSTED_HOSTS)", "code": "UntrustedHost"},
            status_code=400,
        )  # fmt: skip
        await response(scope, receive, send)
