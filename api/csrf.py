"""Refuse writes another site's page makes a browser send (cross-site request forgery).

A browser attaches the session cookie to a request whatever page made it; the request's
provenance tells ours from another site's. A write (POST, PUT, PATCH, DELETE) that is not
authenticated by an ``Authorization: Bearer`` header must come from our own origin: its
``Origin`` is ours, else its ``Sec-Fetch-Site`` is ``same-origin``, else its ``Referer``
is on our origin. A write that carries the cookie and none of the three is refused too
(every browser sends one of them). A request without the cookie and without any of them
is not a browser's (curl, a script logging in): it has no ambient credential to abuse.
Bearer requests are exempt: another site's page cannot set that header (there is no
CORS). Our origin is the public URL's (WARROOM_PUBLIC_URL) or the one the request was
sent to: its scheme and its Host, which ``api.links.TrustedHosts`` has already checked.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

from layers.settings import Settings

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> str | None:
    """Return ``scheme://host[:port]`` of an absolute http(s) URL (None for anything else)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    shown = "" if port in (None, _DEFAULT_PORTS[parts.scheme]) else f":{port}"
    return f"{parts.scheme}://{host}{shown}"


def own_origins(scope: Scope, headers: Headers, settings: Settings) -> set[str]:
    """Return the origins our own pages have: the public URL's and the request's."""
    origins = {origin_of(f"{scope.get('scheme', 'http')}://{headers.get('host', '')}")}
    if settings.public_url:
        origins.add(origin_of(settings.public_url))
    return {origin for origin in origins if origin}


def _has_bearer(headers: Headers) -> bool:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and bool(token.strip())


def cross_site_problem(scope: Scope, settings: Settings) -> str | None:
    """Return why a write must be refused as cross-site, or None when it may go on."""
    headers = Headers(scope=scope)
    if scope["method"] not in UNSAFE_METHODS or _has_bearer(headers):
        return None
    ours = own_origins(scope, headers, settings)
    origin = headers.get("origin")
    if origin is not None:
        if origin_of(origin) in ours:
            return None
        return f"the request comes from another site's page (Origin {origin[:100]!r})"
    site = headers.get("sec-fetch-site")
    if site is not None:
        if site == "same-origin":
            return None
        return f"the request comes from another site's page (Sec-Fetch-Site {site[:30]!r})"
    referer = headers.get("referer")
    if referer is not None:
        if origin_of(referer) in ours:
            return None
        return "the request comes from another site's page (its Referer)"
    if settings.security.cookie_name in cookie_parser(headers.get("cookie", "")):
        return "a write with the session cookie must come from this site's pages (no Origin)"
    return None


class CrossSiteWrites:
    """ASGI middleware answering 403 to a cookie-authenticated write from another site."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass a same-origin or bearer write, and every read, on; refuse any other write."""
        problem = cross_site_problem(scope, self.settings) if scope["type"] == "http" else None
        if problem is None:
            await self.app(scope, receive, send)
            return
        response = JSONResponse(
            {"detail": f"{problem}: refused as cross-site request forgery; send writes from "
                       "this site's pages or with 'Authorization: Bearer <token>'",
             "code": "CrossSiteRequest"},
            status_code=403, headers={"Connection": "close"},  # its body is never read
        )  # fmt: skip
        await response(scope, receive, send)
