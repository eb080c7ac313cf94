"""Security headers on every answer: what a browser may load, run, frame and tell others.

The map page runs only our own files: no inline script or style, no eval, nothing from
another origin. MapLibre's CSP build (``maplibre-gl-csp.js``) starts its worker from our
own file instead of a ``blob:`` URL, so ``worker-src`` is ``'self'`` too. HSTS goes out
only when the app is reached over TLS: its public URL is ``https`` (behind a TLS proxy,
docs/deployment-tls.md) or the request itself came over TLS.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from layers.settings import Settings


def content_security_policy(basemap_origin: str | None = None) -> str:
    """Return the CSP: our own origin only, plus an internal base-map server if configured."""
    tiles = f" {basemap_origin}" if basemap_origin else ""  # WARROOM_MAP_BASEMAP_URL's host
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        f"img-src 'self' data: blob:{tiles}",  # data: MapLibre's icons and the empty favicon
        "font-src 'self'",
        f"connect-src 'self'{tiles}",
        "worker-src 'self'",
        "child-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])  # fmt: skip


_ALWAYS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),  # frame-ancestors for browsers older than CSP 2
    # same-origin: nothing leaves for another site; our own writes keep a Referer (api/csrf.py)
    (b"referrer-policy", b"same-origin"),
    (b"permissions-policy", b"geolocation=(self), camera=(), microphone=(), payment=(), usb=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]
# API answers hold personal information: no browser or shared cache keeps them unless the
# route sets its own Cache-Control.
_API_NO_STORE = (b"cache-control", b"no-store")


def served_over_tls(scope: Scope, settings: Settings) -> bool:
    """Return whether the client reached the app over TLS (its public URL or this request)."""
    public = settings.public_url or ""
    return public.startswith("https://") or scope.get("scheme") in ("https", "wss")


class SecurityHeaders:
    """ASGI middleware adding the security headers to every HTTP answer that lacks them."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        seconds = settings.security.hsts_seconds
        self.hsts = (b"strict-transport-security", f"max-age={seconds}".encode())
        policy = content_security_policy(settings.map.basemap_origin)
        self.always = [(b"content-security-policy", policy.encode()), *_ALWAYS]

    def _headers(self, scope: Scope) -> list[tuple[bytes, bytes]]:
        headers = list(self.always)
        if self.settings.security.hsts_seconds and served_over_tls(scope, self.settings):
            headers.append(self.hsts)
        if scope["path"].startswith("/api/"):
            headers.append(_API_NO_STORE)
        return headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request; its answer's start gets every header it does not set itself."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", ())}
                extra = [(n, v) for n, v in self._headers(scope) if n not in present]
                message = {**message, "headers": [*message.get("headers", ()), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
