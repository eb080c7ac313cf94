"""The briefing map opens in Chromium with no network: Leaflet starts, the rings are drawn.

The page is the API's own answer (body and headers, CSP included) handed to the browser
for its address; every other request the browser makes is aborted and recorded. The
screenshot lands in ``tests/ui/screenshots/briefing_offline.png``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Route, sync_playwright
from sqlalchemy.orm import Session, sessionmaker

from layers.accounts.roles import Role
from layers.perimeters.briefing.figure import RING_COLOURS
from tests.ui.helpers import CHROMIUM, SCREENSHOTS, new_page
from tests.utils.perimeters import busy_place, create_perimeter, perimeter_body
from tests.utils.users import bearer, make_user

PAGE = "http://127.0.0.1/briefing.html"
# the paths Leaflet drew in its overlay pane, with their stroke colours
DRAWN = """() => Array.from(document.querySelectorAll('.leaflet-overlay-pane svg path'))
  .map(p => p.getAttribute('stroke'))"""


@pytest.fixture
def system_browser() -> Iterator[Browser]:
    """Headless Chromium with the system's fonts, as on a workstation."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield launched
        launched.close()


def test_the_briefing_map_opens_with_no_network(
    client: TestClient, session_factory: sessionmaker[Session], system_browser: Browser
) -> None:
    with session_factory() as session:
        _, centre = busy_place(session)
    planner = bearer(client, make_user(session_factory, Role.PLANNER))
    perimeter = create_perimeter(client, planner, perimeter_body(centre, name="离线简报安保"))
    answer = client.get(f"/api/perimeters/{perimeter['id']}/briefing.html", headers=planner)
    assert answer.status_code == 200, answer.text
    blocked: list[str] = []

    def serve_or_block(route: Route) -> None:
        if route.request.url == PAGE:
            route.fulfill(status=200, headers=dict(answer.headers), body=answer.content)
        else:
            blocked.append(route.request.url)
            route.abort("internetdisconnected")

    page = new_page(system_browser)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.route("**/*", serve_or_block)
    page.goto(PAGE)
    page.wait_for_selector(".leaflet-overlay-pane svg path")
    page.wait_for_load_state("networkidle")
    strokes = page.evaluate(DRAWN)
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "briefing_offline.png", full_page=True)
    assert page.evaluate("typeof L === 'object' && typeof L.map === 'function'")
    for colour in RING_COLOURS.values():  # the three rings, each drawn
        assert colour in strokes, (colour, strokes)
    assert page.locator(".leaflet-control-layers").is_visible()  # the layer switch
    assert page.locator(".briefing-legend").inner_text().count("区") >= 3
    assert "离线简报安保" in page.content() and "各圈层数量" in page.content()
    assert blocked == [] and errors == []
