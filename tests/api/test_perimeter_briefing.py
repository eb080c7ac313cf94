"""The briefing map: one page with no remote resource, the rings, their counts; PNG and PDF."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from layers.accounts.roles import Role
from tests.ui.helpers import SCREENSHOTS
from tests.utils.perimeters import busy_place, create_perimeter, perimeter_body
from tests.utils.users import bearer, make_user

# what a browser would fetch by itself: a script, image or frame, a stylesheet, a CSS url()
# or import (Leaflet's script names its home page for a link in the attribution: not fetched)
REMOTE = re.compile(r"""\bsrc\s*=\s*["']?\s*(?:https?:)?//|<link\b[^>]*href\s*=\s*["']?\s*"""
                    r"""(?:https?:)?//|url\(\s*["']?\s*(?:https?:)?//|@import""",
                    re.IGNORECASE)  # fmt: skip


@pytest.fixture(scope="module")
def planned(client: TestClient, session_factory: sessionmaker[Session]) -> dict[str, Any]:
    """A planner and a perimeter of three rings around the busiest place."""
    with session_factory() as session:
        _, centre = busy_place(session)
    planner = bearer(client, make_user(session_factory, Role.PLANNER))
    perimeter = create_perimeter(client, planner, perimeter_body(centre, name="简报测试安保"))
    return {"headers": planner, "id": perimeter["id"]}


def test_the_page_loads_nothing_remote_and_names_rings_and_counts(
    client: TestClient, planned: dict[str, Any]
) -> None:
    response = client.get(f"/api/perimeters/{planned['id']}/briefing.html",
                          headers=planned["headers"])  # fmt: skip
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert "sandbox" in response.headers["content-security-policy"]
    html = response.text
    assert REMOTE.search(html) is None, REMOTE.search(html)
    assert "<script src" not in html and "stylesheet" not in html  # inlined, not linked
    assert "L.map(" in html and "Leaflet 1.9" in html
    contents = client.get(f"/api/perimeters/{planned['id']}/contents",
                          headers=planned["headers"]).json()  # fmt: skip
    assert "简报测试安保" in html and "各圈层数量" in html and "图层" in html
    for ring in contents["rings"]:
        assert ring["title"] in html
        units = ring["layers"]["units"]
        row = f"<td>{units['title']}</td>"
        assert row in html
    counts = re.search(r"<td>单位</td>((?:<td>\d+</td>)+)</tr>", html)
    assert counts is not None
    shown = [int(n) for n in re.findall(r"\d+", counts.group(1))]
    expected = [r["layers"]["units"]["count"] for r in contents["rings"]]
    assert shown == [*expected, sum(expected)] and sum(expected) > 0


def test_png_and_pdf_are_drawn(client: TestClient, planned: dict[str, Any]) -> None:
    for kind, magic in (("png", b"\x89PNG\r\n\x1a\n"), ("pdf", b"%PDF-")):
        response = client.get(f"/api/perimeters/{planned['id']}/briefing.{kind}",
                              headers=planned["headers"])  # fmt: skip
        assert response.status_code == 200, response.text
        assert response.content.startswith(magic)
        assert len(response.content) > 20_000, (kind, len(response.content))
        SCREENSHOTS.mkdir(exist_ok=True)  # to look at, beside the browser tests' shots
        (SCREENSHOTS / f"briefing_server.{kind}").write_bytes(response.content)


def test_the_briefing_is_read_as_the_perimeter(
    client: TestClient, planned: dict[str, Any], session_factory: sessionmaker[Session]
) -> None:
    unit_user = bearer(client, make_user(session_factory, Role.TOURISM))
    for headers, status in ((unit_user, 404), ({}, 401)):
        response = client.get(f"/api/perimeters/{planned['id']}/briefing.html", headers=headers)
        assert response.status_code in (status, 403), response.text
    missing = client.get("/api/perimeters/999999999/briefing.png", headers=planned["headers"])
    assert missing.status_code == 404


def test_a_missing_renderer_is_a_503(
    client: TestClient, planned: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = client.app.state.settings  # type: ignore[attr-defined]
    monkeypatch.setattr(settings.perimeters, "chromium", "no-such-chromium")
    response = client.get(f"/api/perimeters/{planned['id']}/briefing.pdf",
                          headers=planned["headers"])  # fmt: skip
    assert response.status_code == 503
    assert "renderer" in response.json()["detail"]


def test_a_configured_tile_service_is_the_background(
    client: TestClient, planned: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    tiles = "http://tiles.internal:8080/gis/{z}/{x}/{y}.png"
    settings = client.app.state.settings  # type: ignore[attr-defined]
    monkeypatch.setattr(settings.perimeters, "briefing_tiles", tiles)
    response = client.get(f"/api/perimeters/{planned['id']}/briefing.html",
                          headers=planned["headers"])  # fmt: skip
    assert response.status_code == 200, response.text
    assert re.search(r'L\.tileLayer\(\s*"' + re.escape(tiles) + '"', response.text)
    policy = response.headers["content-security-policy"]
    assert "img-src data: http://tiles.internal:8080;" in policy
