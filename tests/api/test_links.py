"""Links in TileJSON and OGC documents come from the configured public URL or trusted hosts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from layers.settings import Settings

EVIL = {"Host": "evil.example"}
PUBLIC = "https://warroom.bureau.local/map"


def _hrefs(document: Any) -> list[str]:
    """Every ``href`` in a JSON document, at any depth."""
    if isinstance(document, dict):
        own = [document["href"]] if isinstance(document.get("href"), str) else []
        return own + [h for value in document.values() for h in _hrefs(value)]
    if isinstance(document, list):
        return [h for value in document for h in _hrefs(value)]
    return []


@pytest.mark.parametrize(
    "path",
    ["/tiles/units.json", "/ogc", "/ogc/collections", "/ogc/collections/units/items?limit=1",
     "/tiles/units/12/3372/1552.mvt", "/api/health"],
)  # fmt: skip
def test_an_untrusted_host_is_refused(client: TestClient, admin: dict[str, str], path: str) -> None:
    response = client.get(path, headers=admin | EVIL)
    assert response.status_code == 400, response.text
    assert "http://evil.example" not in response.text


def test_trusted_hosts_build_links_from_the_host_asked_for(
    client: TestClient, admin: dict[str, str]
) -> None:
    for host in ("localhost:8000", "127.0.0.1"):
        tilejson = client.get("/tiles/units.json", headers=admin | {"Host": host}).json()
        assert tilejson["tiles"][0].startswith(f"http://{host}/tiles/units/"), tilejson


@pytest.fixture(scope="module")
def public(settings: Settings, city: None) -> Iterator[TestClient]:
    """The app behind a reverse proxy at ``PUBLIC``, reached by its own address."""
    configured = settings.model_copy(
        update={"public_url": PUBLIC, "trusted_hosts": ["*.tiles.bureau.local"]}
    )
    with TestClient(create_app(configured), base_url="http://127.0.0.1:8000") as app_client:
        yield app_client


def test_tilejson_tiles_use_the_public_url(public: TestClient, admin: dict[str, str]) -> None:
    tilejson = public.get("/tiles/units.json?filter=risk_level>=3", headers=admin).json()
    assert tilejson["tiles"] == [f"{PUBLIC}/tiles/units/{{z}}/{{x}}/{{y}}.mvt"
                                 "?filter=risk_level%3E%3D3"]  # fmt: skip


def test_ogc_links_use_the_public_url(public: TestClient, admin: dict[str, str]) -> None:
    hrefs = []
    for path in ("/ogc", "/ogc/collections", "/ogc/collections/units",
                 "/ogc/collections/units/queryables"):  # fmt: skip
        document = public.get(path, headers=admin).json()
        hrefs += [*_hrefs(document), document.get("$id", f"{PUBLIC}/ogc")]
    page = public.get("/ogc/collections/units/items?limit=2&risk_level=1..4", headers=admin).json()
    links = {link["rel"]: link["href"] for link in page["links"]}
    assert links["next"].startswith(f"{PUBLIC}/ogc/collections/units/items?")
    assert "risk_level=1..4" in links["next"] and "cursor=" in links["next"]
    assert links["self"] == f"{PUBLIC}/ogc/collections/units/items?limit=2&risk_level=1..4"
    item_id = page["features"][0]["id"]
    item = public.get(f"/ogc/collections/units/items/{item_id}", headers=admin).json()
    hrefs += _hrefs(page) + _hrefs(item)
    assert hrefs and all(h.startswith(f"{PUBLIC}/ogc") for h in hrefs), hrefs


def test_created_feature_location_uses_the_public_url(
    public: TestClient, admin: dict[str, str]
) -> None:
    body = {"geometry": {"type": "Point", "coordinates": [116.40, 39.91]},
            "properties": {"name": "链接测试", "category": "bank"}}  # fmt: skip
    response = public.post("/api/layers/units/features", headers=admin, json=body)
    assert response.status_code == 201, response.text
    location = response.headers["location"]
    assert location == f"{PUBLIC}/api/layers/units/features/{response.json()['id']}"


def test_the_public_host_is_trusted_and_others_are_not(
    public: TestClient, admin: dict[str, str]
) -> None:
    assert public.get("/ogc", headers=admin | {"Host": "warroom.bureau.local"}).status_code == 200
    assert public.get("/ogc", headers=admin | EVIL).status_code == 400


@pytest.mark.parametrize(
    ("host", "status"),
    [("a.tiles.bureau.local", 200), ("A.TILES.bureau.local:8443", 200), ("[::1]:8000", 200),
     ("tiles.bureau.local.evil.example", 400), ("eviltiles.bureau.local", 400), ("", 400)],
)  # fmt: skip
def test_trusted_host_patterns(
    public: TestClient, admin: dict[str, str], host: str, status: int
) -> None:
    assert public.get("/ogc", headers=admin | {"Host": host}).status_code == status
