"""The portal serves its allow-list and nothing else: every other route of the main app,
page or file is not there at all (404/405, as for a path that never existed), whoever asks."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.routing import Mount

from layers.accounts.roles import Role
from layers.accounts.service import Jurisdiction
from layers.features.models import Unit
from layers.settings import Settings
from tests.utils.users import bearer, make_user
from warroom_ui.app import STATIC, create_ui_app
from warroom_ui.portal import PAGES, allows, create_portal_app

PATH_VALUES = {"layer": "units", "layers": "units", "collection_id": "units", "z": "12",
               "x": "3372", "y": "1552"}  # fmt: skip
_PARAMETER = re.compile(r"{(\w+)(?::\w+)?}")
NOT_THERE = {404, 405}


@pytest.fixture(scope="module")
def portal(settings: Settings, city: None) -> Iterator[TestClient]:
    """The portal app on the run's database."""
    with TestClient(create_portal_app(settings)) as client:
        yield client


@pytest.fixture(scope="module")
def callers(
    portal: TestClient, session_factory: sessionmaker[Session]
) -> dict[str, dict[str, str]]:
    """A unit user and an admin, signed in on the portal."""
    with session_factory() as session:
        unit_id = session.scalars(select(Unit.id).order_by(Unit.id)).first()
    return {
        "unit": bearer(
            portal, make_user(session_factory, Role.UNIT, Jurisdiction(unit_id=unit_id))
        ),
        "admin": bearer(portal, make_user(session_factory, Role.ADMIN)),
    }


def _main_calls(settings: Settings) -> Iterator[tuple[str, str, str]]:
    """Yield (method, template, path) of every route of the main app, with values filled in."""
    for route in iter_route_contexts(create_ui_app(settings).routes):
        if isinstance(route.original_route, Mount) or route.path is None:
            continue
        path = _PARAMETER.sub(lambda m: PATH_VALUES.get(m.group(1), "987654321"), route.path)
        for method in sorted((route.methods or {"GET"}) - {"HEAD"}):
            yield method, route.path, path


def _portal_serves(portal: TestClient, method: str, path: str) -> bool:
    """Return whether one of the portal's own routes answers ``method`` at ``path``.

    (``/api/records/active`` reaches the allowed ``/api/records/{record_id}``, which
    refuses it as no id: that is the allowed route answering, not the main app's.)
    """
    for route in iter_route_contexts(portal.app.routes):  # type: ignore[attr-defined]
        if route.path and method in (route.methods or set()):
            pattern = _PARAMETER.sub("[^/]+", route.path)
            if re.fullmatch(pattern, path):
                return True
    return False


def test_every_route_of_the_main_app_is_absent_unless_allowed(
    portal: TestClient, settings: Settings, callers: dict[str, dict[str, str]]
) -> None:
    calls = list(_main_calls(settings))
    assert len(calls) > 100, "the main app's route table was not read"
    served, leaked = [], []
    for method, template, path in calls:
        if allows(method, template) or _portal_serves(portal, method, path):
            served.append(template)
            continue
        for who, headers in callers.items():
            answer = portal.request(method, path, headers=headers)
            if answer.status_code not in NOT_THERE:
                leaked.append(f"{method} {template} as {who}: {answer.status_code}")
    assert not leaked, f"routes the portal must not serve: {leaked}"
    assert "/api/portal/home" in served and "/api/self-checks" in served


def test_the_portal_mounts_only_its_allow_list(portal: TestClient) -> None:
    mounted = {
        (method, route.path)
        for route in iter_route_contexts(portal.app.routes)  # type: ignore[attr-defined]
        if route.path and route.methods and route.path.startswith("/api/")
        for method in route.methods - {"HEAD"}
    }
    assert mounted and all(allows(method, path) for method, path in mounted)
    assert not any(path.startswith(("/docs", "/openapi", "/ogc", "/tiles", "/metrics"))
                   for _, path in mounted)  # fmt: skip


def test_no_page_or_file_of_the_main_app_but_the_portals(
    portal: TestClient, callers: dict[str, dict[str, str]]
) -> None:
    others = [p for p in STATIC.glob("*") if p.is_file() and p.name not in PAGES.values()]
    assert others, "the main app has pages of its own"
    for path in ["/ui/", "/admin", "/help", "/tiles/units.json", "/tiles/units/12/3372/1552.mvt",
                 "/ui/vendor/maplibre/maplibre-gl-csp.js", "/metrics", "/openapi.json", "/docs",
                 *(f"/ui/{p.name}" for p in others)]:  # fmt: skip
        answer = portal.get(path, headers=callers["admin"])
        assert answer.status_code == 404, f"{path}: {answer.status_code}"
    assert portal.get("/portal").status_code == 200
    assert portal.get("/ui/core/api.js").status_code == 200
    assert portal.get("/ui/portal.js").status_code == 200


def test_a_session_other_than_a_units_is_refused_on_every_private_route(
    portal: TestClient, callers: dict[str, dict[str, str]]
) -> None:
    for path in ("/api/portal/home", "/api/inbox", "/api/forms", "/api/auth/me"):
        assert portal.get(path, headers=callers["admin"]).status_code == 403, path
    assert portal.get("/api/portal/home", headers=callers["unit"]).status_code == 200
    assert portal.get("/api/portal/home").status_code == 401
