"""The unit portal (互联网子系统): the unit-facing routes and pages, and nothing else.

``python -m warroom_ui.portal`` serves it for the internet side. The app is the API's
app (same settings, middleware, limits and audit) from which every route not in
``ALLOWED`` has been taken out before it serves: an officer's, commander's or admin's
route is not there to guess at (404, as for a path that never existed), and every
mounted route but the public few also wants a unit account's session. It may use
another database than the main app (``WARROOM_PORTAL_DATABASE_URL``: an exchange copy).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.staticfiles import StaticFiles
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from api.app import create_app
from api.deps import LiveSessionDep, SessionDep
from api.routes.portal import PORTAL_USERS
from api.routes.tiles import TileFastPath
from layers.accounts.roles import Role
from layers.settings import DatabaseSettings, Settings
from warroom_ui.app import STATIC, VENDOR

GET, POST, PATCH, DELETE = (frozenset({m}) for m in ("GET", "POST", "PATCH", "DELETE"))

# Routes anyone may call: signing in, whether one is signed in, liveness, redeeming a code.
PUBLIC_PATHS = frozenset(
    {"/api/auth/login", "/api/auth/session", "/api/health", "/api/portal/join"}
)

# Every route the portal serves, by path template and methods. Anything not here is not
# mounted. Keep it to what a unit does; tests/api/test_portal_allow_list.py walks the
# main app's routes against it.
ALLOWED: dict[str, frozenset[str]] = {
    # signing in and out, one's own password and (optional) authenticator app
    "/api/auth/login": POST,
    "/api/auth/logout": POST,
    "/api/auth/session": GET,
    "/api/auth/me": GET,
    "/api/auth/password": POST,
    "/api/auth/totp/enroll": POST,
    "/api/auth/totp/confirm": POST,
    "/api/health": GET,
    # the portal's own: home, organisation, unit details (edits wait for approval), join
    "/api/portal/home": GET,
    "/api/portal/units": GET,
    "/api/portal/unit": GET | PATCH,
    "/api/portal/records": GET,
    "/api/portal/join": POST,
    # the records a unit works with, through the routes every client uses
    "/api/records/{record_id}": GET,
    "/api/records/{record_id}/comments": POST,
    "/api/records/{record_id}/attachments": GET | POST,
    "/api/attachments/{attachment_id}": GET | DELETE,
    "/api/forms": GET,
    "/api/forms/{code}": GET,
    "/api/self-checks": POST,
    "/api/self-checks/{record_id}": GET,
    "/api/hazards/{record_id}": GET,
    "/api/hazards/{record_id}/transitions": POST,
    "/api/activities": POST,
    "/api/activities/{record_id}": GET,
    "/api/activities/{record_id}/transitions": POST,
    "/api/staff-registrations": POST,
    "/api/staff-registrations/{record_id}": GET,
    "/api/staff-registrations/{record_id}/transitions": POST,
    "/api/approvals/{record_id}": GET,
    "/api/approvals/{record_id}/transitions": POST,
    "/api/notices/{record_id}": GET,
    "/api/inbox": GET,
    "/api/inbox/{message_id}/read": POST,
    # training (内保教培): the learning centre, the resources of one's courses, notices
    "/api/training/learning": GET,
    "/api/training/learning/courses/{course_id}": GET,
    "/api/training/learning/courses/{course_id}/viewed": POST,
    "/api/training/learning/courses/{course_id}/attempts": POST,
    "/api/training/learning/certificates": GET,
    "/api/training/resources/{resource_id}": GET,
    "/api/training/resources/{resource_id}/content": GET,
    "/api/training/industries": GET,
    "/api/training/notices": GET,
}

# Pages and files at their own addresses; /ui/core and the Chinese font are mounted whole.
PAGES = {"/portal": "portal.html", "/ui/portal.js": "portal.js", "/ui/portal.css": "portal.css",
         "/training": "training.html", "/ui/training.js": "training.js",
         "/ui/training.css": "training.css"}  # fmt: skip
MOUNTS = {"/ui/core": STATIC / "core", "/ui/vendor/noto-sans-sc": VENDOR["noto-sans-sc"][0]}


class PortalSettings(BaseSettings):
    """Where the portal's data lives, when not in the main app's database."""

    model_config = SettingsConfigDict(env_prefix="WARROOM_PORTAL_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="the portal's database (an exchange copy); unset: the main app's",
    )


def allows(method: str, path: str) -> bool:
    """Return whether the portal serves ``method`` on the route template ``path``."""
    return method in ALLOWED.get(path, frozenset())


def _unit_session(request: Request, session: SessionDep, live: LiveSessionDep) -> None:
    """Refuse (403, audited) a session that is not a unit account's, on every private route."""
    if live.actor.role is not Role.UNIT:
        raise PORTAL_USERS.refuse(request, session, live.actor)


def _kept(app: FastAPI) -> Iterable[APIRoute]:
    """Yield the app's routes the allow-list names, every one of their methods allowed."""
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or context.path != route.path:
            continue  # FastAPI's docs and schema, or a route mounted under another prefix
        if all(allows(method, route.path) for method in route.methods or ()):
            yield route


def _file(path: Path) -> Callable[[], FileResponse]:
    def serve() -> FileResponse:
        return FileResponse(path, headers={"Cache-Control": "no-cache"})

    return serve


def portal_settings(settings: Settings, portal: PortalSettings) -> Settings:
    """Return ``settings`` with the portal's own database, if it has one."""
    if not portal.database_url:
        return settings
    database = DatabaseSettings(**{**settings.database.model_dump(), "url": portal.database_url})
    return settings.model_copy(update={"database": database})


def create_portal_app(settings: Settings) -> FastAPI:
    """Return the portal: the allowed API routes, the portal page and what it loads."""
    app = create_app(settings)
    kept = list(_kept(app))
    app.router.routes = []
    public, private = APIRouter(), APIRouter()
    for route in kept:
        (public if route.path in PUBLIC_PATHS else private).routes.append(route)
    app.include_router(public)
    app.include_router(private, dependencies=[Depends(_unit_session)])
    # tiles are answered before routing (api/routes/tiles.py): not in the portal
    app.user_middleware = [m for m in app.user_middleware if m.cls is not TileFastPath]
    for url, directory in MOUNTS.items():
        app.mount(url, StaticFiles(directory=directory), name=url)
    for url, name in PAGES.items():
        app.add_api_route(url, _file(STATIC / name), include_in_schema=False)

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/portal")

    return app


def portal_app_from_env() -> FastAPI:
    """Return the portal configured from the environment (``WARROOM_*``), for uvicorn."""
    return create_portal_app(portal_settings(Settings(), PortalSettings()))
