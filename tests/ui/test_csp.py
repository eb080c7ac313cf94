"""The map runs under its Content-Security-Policy with nothing refused (#14.5).

Every answer carries a CSP with no inline script and no eval; a violation would show as
a ``securitypolicyviolation`` event in the page or as a console error (a worker's too).
The page loads and logs in; it adds stations by writes with the session cookie (the
CSRF check lets its own page through), draws them from its vector tiles with their
labels, opens a feature's popup and logs out: not one violation, not one console error.
"""

from __future__ import annotations

from playwright.sync_api import Browser, ConsoleMessage
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from layers.accounts.roles import Role
from tests.ui.helpers import SCREENSHOTS, log_in, new_page, wait_for_map
from tests.utils.users import PASSWORD, make_user

LOGIN_SHOWN = "#login:not([hidden])"
STATIONS = [("天安门东", 116.401, 39.908), ("王府井", 116.411, 39.909), ("东单", 116.418, 39.908)]
# Every refusal the browser reports to the page, kept where the test can read it.
WATCH_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", event => window.cspViolations.push(
  `${event.effectiveDirective} blocked ${event.blockedURI} in ${event.sourceFile}`));
"""
# Writes with the session cookie, as the page's own code sends them.
COOKIE_WRITES = """features => Promise.all(features.map(feature => fetch(
  "/api/layers/rail_stations/features", {
    method: "POST", credentials: "same-origin", headers: {"Content-Type": "application/json"},
    body: JSON.stringify(feature),
  }).then(answer => answer.status)))"""
# Where on the page the station drawn farthest right is (the map's pixels start at its box).
RIGHTMOST_STATION = """() => {
  const map = window.warroomMap;
  const box = map.getContainer().getBoundingClientRect();
  const points = map.queryRenderedFeatures({layers: ["rail_stations-point"]})
    .map(hit => map.project(hit.geometry.coordinates));
  const right = points.reduce((best, point) => point.x > best.x ? point : best);
  return {x: box.left + right.x, y: box.top + right.y};
}"""


def test_the_map_runs_under_its_policy_with_no_violation(
    served: str, scratch_database_url: str, browser: Browser
) -> None:
    engine = create_engine(scratch_database_url)
    user = make_user(sessionmaker(bind=engine), Role.COMMANDER)
    engine.dispose()
    page = new_page(browser)
    errors: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if message.type == "error" or "Content Security Policy" in message.text:
            errors.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("worker", lambda worker: worker.on("console", console))
    page.add_init_script(WATCH_VIOLATIONS)

    answer = page.goto(f"{served}/ui/")
    assert answer is not None
    policy = answer.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    page.wait_for_selector(LOGIN_SHOWN)
    log_in(page, user, PASSWORD)
    page.wait_for_function("() => window.warroomMap && window.warroomMap.loaded()")
    stations = [{"geometry": {"type": "Point", "coordinates": [lon, lat]},
                 "properties": {"name": name, "code": f"S{i}", "lines": ["1号线"]}}
                for i, (name, lon, lat) in enumerate(STATIONS)]  # fmt: skip
    assert page.evaluate(COOKIE_WRITES, stations) == [201] * len(STATIONS)
    page.reload()  # the map again, from the cookie, with the stations
    wait_for_map(page, "rail_stations-point")
    drawn = page.evaluate("window.warroomMap.queryRenderedFeatures({layers: "
                          "['rail_stations-point', 'rail_stations-label']}).length")  # fmt: skip
    assert drawn >= len(STATIONS)  # the worker fetched and decoded the tiles
    point = page.evaluate(RIGHTMOST_STATION)
    page.mouse.click(point["x"], point["y"])
    page.wait_for_selector(".maplibregl-popup td:has-text('站点编码')")
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "csp-map.png"))
    page.click("#logout")
    page.wait_for_selector(LOGIN_SHOWN)
    assert page.evaluate("window.cspViolations") == []
    assert errors == []
