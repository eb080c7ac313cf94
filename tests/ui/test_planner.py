"""A planner's desk (/planner): a core ring drawn with mouse clicks (terra-draw, served by us),
outer rings by distance, each ring's contents as PostGIS counts them, a revision kept as a
new version, and the briefing map downloaded.

Screenshot: ``tests/ui/screenshots/planner_rings.png``.
"""

from __future__ import annotations

from playwright.sync_api import Browser
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from layers.accounts.roles import Role
from tests.ui.helpers import SCREENSHOTS, SETTLED, log_in, new_page, wait_for_map
from tests.utils.perimeters import busy_place
from tests.utils.users import PASSWORD, make_user

HALF_PX = 140  # the drawn square's half side, in pixels
IN_RING = """SELECT count(*) FROM units u JOIN perimeter_rings r ON r.kind = 'core'
AND ST_Intersects(u.geom, r.geom) JOIN perimeters p ON p.id = r.perimeter_id
WHERE p.name = :name"""


def test_a_planner_draws_rings_reads_their_contents_and_downloads_the_briefing(
    served_city: str, browser: Browser, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        _, centre = busy_place(session)
    planner = make_user(session_factory, Role.PLANNER)
    name = f"跨年活动安保 {planner[-6:]}"
    page = new_page(browser)
    page.goto(f"{served_city}/planner")
    log_in(page, planner, PASSWORD)
    wait_for_map(page, "units-point")
    page.evaluate("c => window.warroomMap.jumpTo({center: c, zoom: 14})", [centre.x, centre.y])
    page.evaluate(SETTLED)
    page.fill("#plan-name", name)

    box = page.locator("#map").bounding_box()
    assert box is not None
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    corners = [(-1, -1), (1, -1), (1, 1), (-1, 1), (-1, -1)]  # back to the first: closed
    for dx, dy in corners:
        page.mouse.click(cx + dx * HALF_PX, cy + dy * HALF_PX)
    page.wait_for_selector(".ring[data-kind=core][data-count]")
    page.wait_for_selector(".ring[data-kind=outer]")
    page.wait_for_selector("#versions li")
    page.evaluate(SETTLED)
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "planner_rings.png")
    with session_factory() as session:
        counted = session.scalar(text(IN_RING), {"name": name})
    shown = page.get_attribute(".ring[data-kind=core]", "data-count")
    assert int(shown or -1) == counted and counted > 0

    page.fill("#plan-outer", "800")
    page.press("#plan-outer", "Tab")  # a changed distance is saved as the next version
    page.wait_for_selector("#versions li:nth-child(2)")
    assert page.locator(".ring").count() == 2  # the core and one outer ring now

    with page.expect_download() as downloading:
        page.click("#briefing")
    briefing = downloading.value.path().read_text(encoding="utf-8")
    assert name in briefing
