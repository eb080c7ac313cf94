"""Pure ASGI middleware around every HTTP request: its id, its access line, its metrics.

Pure ASGI (not ``BaseHTTPMiddleware``): messages pass straight through, so streamed
answers stay streamed and a cached tile pays a few microseconds (bench/ops_overhead.py).
An error no handler took is answered here, through the app's own handlers, so the 500
carries the request id as its reference and the ``X-Request-ID`` header like any answer.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from time import perf_counter

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_response
from api.ops.context import RequestContext, enter_request, leave_request, request_id_from
from api.ops.logs import ACCESS_LOGGER
from api.ops.metrics import UNROUTED, Metrics
from api.ops.recent import MAX_BODY, RecentError, RecentErrors, error_message

REQUEST_ID_HEADER = b"x-request-id"
_access = logging.getLogger(ACCESS_LOGGER)


def _incoming_id(scope: Scope) -> bytes | None:
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER:
            return bytes(value)
    return None


class RequestObserver:
    """Give each HTTP request an id (``X-Request-ID``), then log and count its answer.

    A 5xx answer is also kept among the recent errors, with what failed.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics, errors: RecentErrors) -> None:
        self.app = app
        self.metrics = metrics
        self.errors = errors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request with its id in the logs, the answer and the error reference."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = perf_counter()
        context = RequestContext(request_id_from(_incoming_id(scope)))
        id_header = (REQUEST_ID_HEADER, context.request_id.encode())
        status = 0
        failure: Exception | None = None
        error_body = b""  # the start of a 5xx answer, which says what failed

        async def send_with_id(message: Message) -> None:
            nonlocal status, error_body
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), id_header]}
            elif status >= 500 and len(error_body) < MAX_BODY:
                error_body += message.get("body", b"")[:MAX_BODY]
            await send(message)

        token = enter_request(context)
        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            failure = exc
            if status:  # the answer had begun: the connection can only be dropped
                raise
            response = await error_response(Request(scope, receive), exc)
            await response(scope, receive, send_with_id)
        finally:
            self._record(scope, status, perf_counter() - started)
            if status >= 500:
                self._keep_error(scope, context.request_id, status,
                                 error_message(failure, error_body))  # fmt: skip
            leave_request(token)

    def _keep_error(self, scope: Scope, request_id: str, status: int, message: str) -> None:
        route = getattr(scope.get("route"), "path", None) or UNROUTED
        self.errors.add(RecentError(datetime.now(UTC), request_id, scope["method"], route,
                                    status, message))  # fmt: skip

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        if not status:  # the client left before any answer
            return
        route = getattr(scope.get("route"), "path", None) or UNROUTED
        method = scope["method"]
        self.metrics.observe(method, route, status, seconds)
        if _access.isEnabledFor(logging.INFO):
            _access.info(
                "%s %s %d", method, route, status,
                extra={"method": method, "route": route, "status": status,
                       "duration_ms": round(seconds * 1000, 3)},
            )  # fmt: skip
