"""One map from domain errors to HTTP statuses, registered once on the app."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.bodies import documented
from api.ops.context import current_request_id
from api.schemas.errors import ErrorBody
from layers.errors import (
    Conflict,
    CryptoError,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    PreconditionRequired,
    ServiceUnavailable,
    UnsupportedMediaType,
    VersionConflict,
    WarroomError,
)

logger = logging.getLogger(__name__)
QUERY_CANCELED = "57014"  # SQLSTATE of a statement stopped by statement_timeout

STATUS_BY_ERROR: dict[type[WarroomError], int] = {
    NotFound: 404,
    InvalidInput: 422,
    UnsupportedMediaType: 415,
    PayloadTooLarge: 413,
    NotAuthenticated: 401,
    PermissionDenied: 403,
    PreconditionRequired: 428,
    VersionConflict: 412,
    Conflict: 409,
    ServiceUnavailable: 503,
    CryptoError: 500,  # keys missing or data that does not verify: the server's fault, said so
}


# Every operation is documented with these answers: the middleware may give any of them to
# any request (a foreign Host, no session, a cross-site write, a body too large, too many
# requests, the database down), the domain errors the rest; the body is always ErrorBody,
# as JSON whatever the route's own media type.
_ERROR_BODY = {"application/json": {"schema": documented(ErrorBody)}}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": description, "content": _ERROR_BODY}
    for status, description in (
        (400, "Malformed request, or a Host this server does not answer for"),
        (401, "Not logged in, or the session has ended"),
        (403, "Not permitted to the caller's role or jurisdiction, or a cross-site write"),
        (404, "No such object, or none the caller may see"),
        (409, "Conflicts with the current state"),
        (412, "The If-Match version is not the current one"),
        (413, "Request body or upload too large"),
        (415, "Unsupported content type"),
        (422, "Invalid input: each problem named"),
        (428, "If-Match is required"),
        (429, "Too many requests or queries at once; see Retry-After"),
        (503, "The database or a needed tool is unavailable, or the query took too long"),
    )
}


def status_for(error: WarroomError) -> int:
    """Return the HTTP status of a domain error (the most specific class wins)."""
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 400


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, WarroomError)
    status = status_for(exc)
    body = {"detail": exc.message, "code": type(exc).__name__, **exc.details}
    headers = {}
    if isinstance(exc, VersionConflict):
        headers["ETag"] = f'"{exc.current_version}"'
    if isinstance(exc, NotAuthenticated):
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(body, status_code=status, headers=headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()]
    return JSONResponse(
        {"detail": "invalid request: " + "; ".join(problems), "code": "InvalidInput",
         "problems": problems},
        status_code=422,
    )  # fmt: skip


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return JSONResponse({"detail": exc.detail, "code": "HTTPError"}, status_code=exc.status_code,
                        headers=getattr(exc, "headers", None))  # fmt: skip


async def _database_down(request: Request, exc: Exception) -> JSONResponse:
    if getattr(getattr(exc, "orig", None), "pgcode", None) == QUERY_CANCELED:
        return _too_long(request)
    logger.error("database unavailable on %s %s: %s", request.method, request.url.path, exc)
    return JSONResponse(
        {"detail": "the database is unavailable; try again shortly", "code": "Unavailable"},
        status_code=503,
        headers={"Retry-After": "5"},
    )


def _too_long(request: Request) -> JSONResponse:
    seconds = request.app.state.settings.database.statement_timeout_ms / 1000
    logger.warning("statement timeout on %s %s", request.method, request.url.path)
    return JSONResponse(
        {"detail": f"the query took longer than {seconds:g} s and was stopped; narrow it "
                   "(a smaller region, fewer layers or a lower limit)", "code": "QueryTimeout"},
        status_code=503,
    )  # fmt: skip


async def _pool_busy(request: Request, exc: Exception) -> JSONResponse:
    logger.warning("no free database connection on %s %s", request.method, request.url.path)
    return JSONResponse(
        {"detail": "every database connection is busy; try again shortly", "code": "Busy"},
        status_code=503,
        headers={"Retry-After": "5"},
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    reference = current_request_id() or uuid.uuid4().hex  # the id its log lines carry
    logger.exception("unhandled error %s on %s %s", reference, request.method, request.url.path)
    return JSONResponse(
        {"detail": f"internal error, reference {reference}", "code": "InternalError",
         "reference": reference},
        status_code=500,
    )  # fmt: skip


Handler = Callable[[Request, Exception], Awaitable[JSONResponse]]
HANDLERS: dict[type[Exception], Handler] = {
    WarroomError: _domain_error,
    RequestValidationError: _validation_error,
    StarletteHTTPException: _http_error,
    OperationalError: _database_down,
    PoolTimeout: _pool_busy,
    Exception: _unexpected,
}


def register_error_handlers(app: FastAPI) -> None:
    """Install the handlers that turn errors into precise JSON responses."""
    for error, handler in HANDLERS.items():
        app.add_exception_handler(error, handler)


async def error_response(request: Request, exc: Exception) -> JSONResponse:
    """Return the response the app's handlers give ``exc`` (for code ahead of the routing)."""
    for cls in type(exc).__mro__:
        if cls in HANDLERS:
            return await HANDLERS[cls](request, exc)
    raise exc  # not an Exception: let it end the request
