"""A person imports real Beijing files with one command each and sees them on the map.

Runs the ``warroom import`` CLI against a database of the test's own, serves the API
with the map page (``warroom_ui``) on a local port and drives Debian's Chromium
headless through Playwright; the screenshot lands in ``tests/ui/screenshots/``.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, Page
from sqlalchemy import create_engine, text
from sqlalchemy.orm import sessionmaker

from layers.accounts.roles import Role
from tests.ui.helpers import SCREENSHOTS, SETTLED, import_file, log_in, new_page, wait_for_map
from tests.utils.users import PASSWORD, make_user

# The drawn station farthest from any other, in pixels: a click on it hits only it.
LONELIEST_STATION = """() => {
  const map = window.warroomMap;
  const points = map.queryRenderedFeatures({layers: ["rail_stations-point"]})
    .map(f => ({id: f.id, ...map.project(f.geometry.coordinates)}));
  const gap = p => Math.min(...points.filter(q => q.id !== p.id)
    .map(q => Math.hypot(p.x - q.x, p.y - q.y)));
  return points.reduce((best, p) => gap(p) > gap(best) ? p : best);
}"""


def _rendered(page: Page, layer: str) -> int:
    return int(page.evaluate("id => window.warroomMap.queryRenderedFeatures({layers: [id]})"
                             ".length", layer))  # fmt: skip


def test_imported_files_appear_on_the_map(
    served: str, scratch_database_url: str, shared_data: Path, browser: Browser
) -> None:
    districts = shared_data / "beijing_districts_datav_hires_gcj02.geojson"
    stations = shared_data / "subway_stations_osm_wgs84.geojson"
    printed = import_file(scratch_database_url, str(districts), "--layer", "districts",
                          "--crs", "gcj02", "--map", "code=adcode")  # fmt: skip
    assert "loaded 16" in printed, printed
    printed = import_file(scratch_database_url, str(stations), "--layer", "rail_stations",
                          "--map", "code=stop_code")  # fmt: skip
    assert "loaded 511" in printed, printed
    engine = create_engine(scratch_database_url)
    user = make_user(sessionmaker(bind=engine), Role.ADMIN)
    engine.dispose()
    page = new_page(browser)
    remote = []
    page.on("request", lambda r: remote.append(r.url) if not r.url.startswith(served)
            and not r.url.startswith(("data:", "blob:")) else None)  # fmt: skip
    page.goto(f"{served}/")
    log_in(page, user, "wrong")
    page.wait_for_selector("#login-error:has-text('登录失败')")
    log_in(page, user, PASSWORD)
    page.wait_for_selector("label[for=layer-rail_stations]:has-text('511')")
    wait_for_map(page, "rail_stations-point")
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "imported_layers.png")
    stations_drawn = _rendered(page, "rail_stations-point")
    districts_drawn = _rendered(page, "districts-fill")
    station = page.evaluate(LONELIEST_STATION)
    page.locator("#map").click(position={"x": station["x"], "y": station["y"]})
    popup = page.wait_for_selector(".maplibregl-popup-content table").inner_text()
    page.screenshot(path=SCREENSHOTS / "station_popup.png")
    page.uncheck("#layer-rail_stations")
    page.evaluate(SETTLED)
    hidden = _rendered(page, "rail_stations-point") + _rendered(page, "rail_stations-label")
    assert stations_drawn > 100 and districts_drawn >= 16 and hidden == 0
    with create_engine(scratch_database_url).connect() as conn:
        name = conn.scalar(text("SELECT name FROM rail_stations WHERE id = :id"), station)
    assert name and name in popup and "轨道交通站" in popup  # the clicked station's attributes
    assert remote == []  # a closed network: nothing but our own server is asked
