"""How many requests one caller may make: per session and per network address.

A token bucket per caller holds a minute's allowance and refills at that rate: the
burst of a map loading its tiles passes, a script hammering the API gets a 429 with
``Retry-After``. A request counts against its session (the bearer token or the cookie)
and, separately, against its address, so made-up tokens do not escape the address's
limit. Counts are per worker process, like the query slots of ``api.slots``.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable

from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

from layers.settings import Settings

# Beyond this many callers remembered, the ones whose bucket has refilled are forgotten.
MAX_REMEMBERED = 50_000


class TokenBuckets:
    """One bucket of ``per_minute`` requests per key, refilling at ``per_minute`` a minute."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.rate_per_s = per_minute / 60
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, when)

    def take(self, key: str) -> float:
        """Take a request from ``key``'s bucket; return 0, or the seconds until one is there."""
        now = self._clock()
        tokens, when = self._buckets.get(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - when) * self.rate_per_s)
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self.rate_per_s
        self._buckets[key] = (tokens - 1, now)
        if len(self._buckets) > MAX_REMEMBERED:
            self._forget_full(now)
        return 0.0

    def _forget_full(self, now: float) -> None:
        full = [key for key, (tokens, when) in self._buckets.items()
                if tokens + (now - when) * self.rate_per_s >= self.capacity]  # fmt: skip
        for key in full:
            del self._buckets[key]


def session_key(headers: Headers, cookie_name: str) -> str | None:
    """Return a digest of the request's session token (bearer first, then cookie), if any."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        token = cookie_parser(headers.get("cookie", "")).get(cookie_name, "")
    if not token.strip():
        return None
    return hashlib.blake2b(token.strip().encode(), digest_size=16).hexdigest()


class RateLimits:
    """ASGI middleware answering 429 to a session or an address over its requests a minute."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        limits = settings.limits
        self.cookie_name = settings.security.cookie_name
        self.per_session = limits.session_requests_per_minute
        self.per_address = limits.address_requests_per_minute
        self.sessions = TokenBuckets(self.per_session) if self.per_session else None
        self.addresses = TokenBuckets(self.per_address) if self.per_address else None

    def _wait(self, scope: Scope) -> tuple[float, str]:
        """Return the seconds the caller must wait (0: none) and which limit it passed."""
        if self.addresses is not None and scope.get("client"):
            wait = self.addresses.take(scope["client"][0])
            if wait:
                return wait, f"{self.per_address:,} requests a minute from one address"
        key = session_key(Headers(scope=scope), self.cookie_name)
        if self.sessions is not None and key is not None:
            wait = self.sessions.take(key)
            if wait:
                return wait, f"{self.per_session:,} requests a minute in one session"
        return 0.0, ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, or answer 429 when its session or address is over its limit."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wait, limit = self._wait(scope)
        if not wait:
            await self.app(scope, receive, send)
            return
        seconds = max(1, math.ceil(wait))
        response = JSONResponse(
            {"detail": f"too many requests: the limit is {limit} "
                       f"(WARROOM_LIMITS_*_REQUESTS_PER_MINUTE); try again in {seconds} s",
             "code": "TooManyRequests"},
            status_code=429, headers={"Retry-After": str(seconds), "Connection": "close"},
        )  # fmt: skip
        await response(scope, receive, send)
