"""Refuse a costly request before paying for it: a body over its route's cap, a body
from a caller without a live session.

Pure ASGI middleware, outermost, so nothing (not even ``api.guard``, which reads JSON
bodies) has read a byte of the body yet. A declared ``Content-Length`` over the cap is
a 413 at once; a chunked body is counted as it streams and cut off with a 413 when it
passes the cap. A body sent to an ``/api`` route other than login is only read once
its session has been verified (the same lookup as ``api.deps.live_session``, in a
worker thread): a caller without one gets the 401 without the body being read.
Uploads to ``/api/imports`` stream to disk under their own cap
(``WARROOM_IMPORTS_MAX_UPLOAD_BYTES``, checked by the route); a file attached to a record
has its own cap (``WARROOM_LIMITS_ATTACHMENT_BYTES`` plus 64 KiB for the form), and so
has a training resource (the larger of ``WARROOM_TRAINING_VIDEO_BYTES`` and
``_DOCUMENT_BYTES``, plus 64 KiB).
"""

from __future__ import annotations

import re

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import bearer_token, live_session
from api.errors import error_response
from layers.database import transaction
from layers.settings import Settings

LOGIN_PATH = "/api/auth/login"
# Bodies read without a session: logging in, and redeeming a unit's invitation (the portal).
SIGN_IN_PATHS = frozenset({LOGIN_PATH, "/api/portal/join"})
IMPORTS_PATH = "/api/imports"
ATTACHMENTS_PATH = re.compile(r"/api/records/[^/]+/attachments")
TRAINING_RESOURCES_PATH = "/api/training/resources"
# Room for the multipart form around an attached file: boundaries, part headers, a caption.
ATTACHMENT_FORM_BYTES = 64 * 1024
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class BodyTooLarge(HTTPException):
    """A request body over its route's cap (413)."""

    def __init__(self, cap: int, setting: str = "WARROOM_LIMITS_MAX_BODY_BYTES") -> None:
        super().__init__(413, f"request body larger than the limit of {cap:,} bytes for this "
                              f"route ({setting})")  # fmt: skip


def body_cap(path: str, settings: Settings) -> int | None:
    """Return the most bytes a body sent to ``path`` may have (None: the route caps it)."""
    limits = settings.limits
    if path in SIGN_IN_PATHS:
        return limits.login_body_bytes
    if path == IMPORTS_PATH:
        return None
    if ATTACHMENTS_PATH.fullmatch(path):
        return limits.attachment_bytes + ATTACHMENT_FORM_BYTES
    if path == TRAINING_RESOURCES_PATH:
        training = settings.training
        return max(training.video_bytes, training.document_bytes) + ATTACHMENT_FORM_BYTES
    return limits.max_body_bytes


def cap_setting(path: str) -> str:
    """Return the setting that sets the body cap of ``path``, for the 413's message."""
    if ATTACHMENTS_PATH.fullmatch(path):
        return "WARROOM_LIMITS_ATTACHMENT_BYTES, plus 64 KiB for the form"
    if path == TRAINING_RESOURCES_PATH:
        return "WARROOM_TRAINING_VIDEO_BYTES or _DOCUMENT_BYTES, plus 64 KiB for the form"
    return "WARROOM_LIMITS_MAX_BODY_BYTES"


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


def _has_body(scope: Scope) -> bool:
    """Return whether the request says it carries a body (a length above 0, or chunked)."""
    length = _declared_length(scope)
    chunked = any(name == b"transfer-encoding" for name, _ in scope["headers"])
    return chunked or bool(length)


def _counted(receive: Receive, cap: int, setting: str) -> Receive:
    """Return ``receive`` that raises ``BodyTooLarge`` once more than ``cap`` bytes came."""
    received = 0

    async def counted() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > cap:
                raise BodyTooLarge(cap, setting)
        return message

    return counted


def _authenticate(request: Request) -> None:
    """Verify the request's session, as every route does, or raise ``NotAuthenticated``."""
    settings: Settings = request.app.state.settings
    with transaction(request.app.state.sessionmaker) as session:
        live_session(request, session, settings, bearer_token(request, settings))


class RequestLimits:
    """ASGI middleware: body caps per route, and no body read before authentication."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse a body too large or unauthenticated; pass any other request on."""
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        settings: Settings = request.app.state.settings
        path: str = scope["path"]
        cap = body_cap(path, settings)
        length = _declared_length(scope)
        try:
            if cap is not None and length is not None and length > cap:
                raise BodyTooLarge(cap, cap_setting(path))
            if path.startswith("/api/") and path not in SIGN_IN_PATHS and _has_body(scope):
                await run_in_threadpool(_authenticate, request)
        except Exception as exc:  # answered by the app's handlers: 401, 413, 503
            await self._refuse(request, exc, send)
            return
        if cap is not None:
            receive = _counted(receive, cap, cap_setting(path))
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except BodyTooLarge as exc:  # raised where a middleware read the body (api.guard)
            if started:
                raise
            await self._refuse(request, exc, send)

    @staticmethod
    async def _refuse(request: Request, exc: Exception, send: Send) -> None:
        response = await error_response(request, exc)
        response.headers["Connection"] = "close"  # the unread body must not be taken as a request
        await response(request.scope, request.receive, send)
