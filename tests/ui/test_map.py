"""A person imports real Beijing files with one command each and sees them on the map.

Runs the ``warroom import`` CLI against a database of the test's own, serves the API
with the map page (``warroom_ui``) on a local port and drives Debian's Chromium
headless through Playwright; the screenshot lands in ``tests/ui/screenshots/``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Page, sync_playwright
from sqlalchemy import create_engine, text
from sqlalchemy.orm import sessionmaker

from layers.accounts.roles import Role
from layers.settings import DatabaseSettings, SecuritySettings, Settings
from tests.utils.users import PASSWORD, make_user
from warroom_ui.app import create_ui_app

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
WARROOM = Path(sys.executable).parent / "warroom"  # the CLI a person runs
SCREENSHOTS = Path(__file__).parent / "screenshots"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(scratch_database_url: str) -> Iterator[str]:
    """The map app on a database of the test's own, at the returned base URL."""
    settings = Settings(database=DatabaseSettings(url=scratch_database_url),
                        security=SecuritySettings(session_cache_seconds=0))  # fmt: skip
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_ui_app(settings), host="127.0.0.1",
                                           port=port, log_level="warning"))  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the app did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def _import(url: str, *arguments: str) -> str:
    """Run ``warroom import`` as a person would; return what it printed."""
    done = subprocess.run([str(WARROOM), "import", *arguments],
                          env={**os.environ, "WARROOM_DATABASE_URL": url},
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


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
    served: str, scratch_database_url: str, shared_data: Path
) -> None:
    districts = shared_data / "beijing_districts_datav_hires_gcj02.geojson"
    stations = shared_data / "subway_stations_osm_wgs84.geojson"
    printed = _import(scratch_database_url, str(districts), "--layer", "districts",
                      "--crs", "gcj02", "--map", "code=adcode")  # fmt: skip
    assert "loaded 16" in printed, printed
    printed = _import(scratch_database_url, str(stations), "--layer", "rail_stations",
                      "--map", "code=stop_code")  # fmt: skip
    assert "loaded 511" in printed, printed
    engine = create_engine(scratch_database_url)
    user = make_user(sessionmaker(bind=engine), Role.ADMIN)
    engine.dispose()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 800}, locale="zh-CN")
        remote = []
        page.on("request", lambda r: remote.append(r.url) if not r.url.startswith(served)
                and not r.url.startswith(("data:", "blob:")) else None)  # fmt: skip
        page.goto(f"{served}/")
        page.fill("input[name=username]", user)
        page.fill("input[name=password]", "wrong")
        page.click("button[type=submit]")
        page.wait_for_selector("#login-error:has-text('登录失败')")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("label[for=layer-rail_stations]:has-text('511')")
        page.wait_for_function("window.warroomMap && window.warroomMap.loaded() && "
                               "window.warroomMap.getLayer('rail_stations-point')")  # fmt: skip
        page.wait_for_function("window.warroomMap.areTilesLoaded()")
        page.wait_for_timeout(500)  # the last tiles' features are drawn on the next frame
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=SCREENSHOTS / "imported_layers.png")
        stations_drawn = _rendered(page, "rail_stations-point")
        districts_drawn = _rendered(page, "districts-fill")
        station = page.evaluate(LONELIEST_STATION)
        page.locator("#map").click(position={"x": station["x"], "y": station["y"]})
        popup = page.wait_for_selector(".maplibregl-popup-content table").inner_text()
        page.screenshot(path=SCREENSHOTS / "station_popup.png")
        page.uncheck("#layer-rail_stations")
        page.wait_for_timeout(300)
        hidden = _rendered(page, "rail_stations-point")
        browser.close()
    assert stations_drawn > 100 and districts_drawn >= 16 and hidden == 0
    with create_engine(scratch_database_url).connect() as conn:
        name = conn.scalar(text("SELECT name FROM rail_stations WHERE id = :id"), station)
    assert name and name in popup and "轨道交通站" in popup  # the clicked station's attributes
    assert remote == []  # a closed network: nothing but our own server is asked
