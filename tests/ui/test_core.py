"""The map page on the front-end core (#16.4, 16.5, 16.7), walked as an officer would.

On the demo city, with every request beyond our origin cut: the page loads and logs in with
no failed request and no console error; the base map drawn from our own data renders
(districts, precincts, parks, water, roads, rail lines); the switcher hides a layer; the search box
jumps to a station and opens its popup; a session revoked by an administrator through the API
ends at the next tile the map asks for, which brings the login form back, and logging in
again brings the map.
"""

from __future__ import annotations

import httpx
from playwright.sync_api import Browser, Page
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from layers.accounts.roles import Role
from layers.features.models import RailStation
from tests.ui.helpers import (
    SCREENSHOTS,
    SETTLED,
    console_errors,
    cut_network,
    failed_responses,
    log_in,
    new_page,
    wait_for_map,
)
from tests.utils.users import PASSWORD, make_user

BASE_MAP = ["districts-fill", "districts-line", "precincts-line", "parks-fill", "districts-label",
            "water-fill", "roads-line", "rail_lines-line"]  # fmt: skip
# The features drawn at the map's centre pixel on one style layer.
AT_CENTRE = """id => {
  const map = window.warroomMap;
  return map.queryRenderedFeatures(map.project(map.getCenter()), {layers: [id]})
    .map(feature => feature.id);
}"""


def _rendered(page: Page, layer: str) -> int:
    return int(page.evaluate("id => window.warroomMap.queryRenderedFeatures({layers: [id]})"
                             ".length", layer))  # fmt: skip


def _revoke(served: str, admin: str, username: str) -> None:
    """Revoke every live session of ``username`` as an administrator would, over HTTP."""
    with httpx.Client(base_url=served) as http:
        token = http.post("/api/auth/login", json={"username": admin, "password": PASSWORD})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        live = http.get("/api/admin/sessions", headers=headers).json()["data"]
        for session in (s for s in live if s["username"] == username):
            assert http.delete(f"/api/admin/sessions/{session['id']}", headers=headers).is_success


def test_the_map_page_on_the_core(
    served_city: str, session_factory: sessionmaker[Session], browser: Browser
) -> None:
    officer = make_user(session_factory, Role.COMMANDER)
    admin = make_user(session_factory, Role.ADMIN)
    with session_factory() as session:
        station = session.scalars(select(RailStation).where(RailStation.name != "")
                                  .order_by(RailStation.id).limit(1)).one()  # fmt: skip
        name, station_id = station.name, station.id
    page = new_page(browser)
    errors = console_errors(page)
    failed = failed_responses(page)
    elsewhere = cut_network(page, served_city)
    page.on("requestfailed", lambda request: failed.append(f"failed {request.url}")
            if request.failure != "net::ERR_ABORTED" else None)  # fmt: skip  # not cancelled tiles
    page.goto(f"{served_city}/ui/")
    log_in(page, officer, PASSWORD)
    wait_for_map(page, "units-point")
    base = {layer: _rendered(page, layer) for layer in BASE_MAP}
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "core_map.png")

    units = _rendered(page, "units-point")
    page.uncheck("#layer-units")
    page.evaluate(SETTLED)
    hidden = _rendered(page, "units-point")

    page.fill("#search input", name)
    page.click(f".search-results button:has-text('{name}'):has-text('轨道交通站')")
    popup = page.locator(".maplibregl-popup-content table").inner_text()
    page.evaluate(SETTLED)
    at_centre = page.evaluate(AT_CENTRE, "rail_stations-point")
    page.screenshot(path=SCREENSHOTS / "core_search.png")
    before_revocation = (list(errors), list(failed))

    _revoke(served_city, admin, officer)
    page.evaluate("window.warroomMap.panBy([600, 400])")  # new tiles: refused, 401
    page.wait_for_selector("#login:not([hidden]) #login-note:has-text('登录已失效')")
    assert page.evaluate("window.warroomMap") is None and page.locator("#sidebar").is_hidden()
    log_in(page, officer, PASSWORD)
    wait_for_map(page, "units-point")

    assert all(count > 0 for count in base.values()), base
    assert units > 0 and hidden == 0
    assert name in popup and "轨道交通站" in popup
    assert station_id in at_centre  # the map flew to the station
    assert before_revocation == ([], [])
    assert elsewhere == []
