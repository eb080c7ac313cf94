"""The map pages' base map (#16.5): our own data by default, an internal tile service if set.

No base-map URL unless one is configured; a configured one is told to signed-in pages by
GET /api/map/config and let in by the Content-Security-Policy, its origin alone.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from layers.accounts.roles import Role
from layers.settings import MapSettings, Settings
from tests.utils.users import bearer, make_user

GIS = "http://gis.bureau.local:8080"


def _directive(policy: str, name: str) -> str:
    return next(part for part in policy.split("; ") if part.startswith(name + " "))


def test_the_default_base_map_is_our_own_data(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    planner = bearer(client, make_user(session_factory, Role.PLANNER))
    answer = client.get("/api/map/config", headers=planner)
    assert answer.status_code == 200, answer.text
    assert answer.json()["basemap"] == {"kind": "own", "url": None, "tile_size": 256}
    policy = answer.headers["content-security-policy"]
    assert _directive(policy, "connect-src") == "connect-src 'self'"
    assert client.get("/api/map/config").status_code == 401


def test_an_internal_tile_service_is_told_and_let_in(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    tiles = f"{GIS}/arcgis/rest/services/city/MapServer/tile/{{z}}/{{y}}/{{x}}"
    configured = settings.model_copy(
        update={"map": MapSettings(basemap_url=tiles, basemap_tile_size=512)}
    )
    with TestClient(create_app(configured)) as gis_client:
        commander = bearer(gis_client, make_user(session_factory, Role.COMMANDER))
        answer = gis_client.get("/api/map/config", headers=commander)
    assert answer.json()["basemap"] == {"kind": "raster", "url": tiles, "tile_size": 512}
    policy = answer.headers["content-security-policy"]
    assert _directive(policy, "connect-src") == f"connect-src 'self' {GIS}"
    assert _directive(policy, "img-src") == f"img-src 'self' data: blob: {GIS}"
    assert _directive(policy, "script-src") == "script-src 'self'"


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("gis.bureau.local/tiles/{z}/{x}/{y}.png", "raster"),  # not absolute, not our path
        (f"{GIS}/tiles/{{z}}/{{x}}.png", "raster"),  # no {y}
        ("ftp://gis.bureau.local/{z}/{x}/{y}.png", "raster"),
        ("javascript:alert(1)", "style"),
    ],
)
def test_an_unusable_tile_service_is_refused_at_start(url: str, kind: str) -> None:
    with pytest.raises(ValidationError, match="basemap URL"):
        MapSettings(basemap_url=url, basemap_kind=kind)


def test_a_style_on_our_own_origin_adds_no_source_to_the_policy() -> None:
    own = MapSettings(basemap_url="/gis/style.json", basemap_kind="style")
    assert own.basemap_origin is None
