"""A planner's desk (/planner): a core ring drawn with mouse clicks (terra-draw, served by us),
its contents shown while it is half drawn, outer rings by distance, each ring's contents as
PostGIS counts them once saved, a vertex dragged with the contents following before the
mouse is released, a revision kept as a new version, and the briefing map downloaded as
HTML, PNG and PDF, the contents as GeoJSON.

Screenshots: ``tests/ui/screenshots/planner_rings.png``, ``planner_dragging.png``,
``planner_actions.png``.
"""

from __future__ import annotations

import json

from playwright.sync_api import Browser
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from layers.accounts.roles import Role
from tests.ui.helpers import SCREENSHOTS, SETTLED, log_in, new_page, wait_for_map
from tests.utils.perimeters import busy_place
from tests.utils.users import PASSWORD, make_user

HALF_PX = 140  # the drawn square's half side, in pixels
INWARD_PX = 15  # where a vertex is dragged to: this far right of and below the middle
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
    for dx, dy in corners[:3]:
        page.mouse.click(cx + dx * HALF_PX, cy + dy * HALF_PX)
    # half drawn (a triangle so far): its contents are shown already, nothing is saved yet
    page.wait_for_selector("#contents[data-source=preview] .ring[data-kind=core][data-count]")
    assert page.locator("#versions li").count() == 0
    for dx, dy in corners[3:]:
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

    # Edit: drag the lower right vertex in, near the middle (half the square is left).
    # Before the mouse is released the rings hold what the server says the drawing holds
    # now; on release that is saved.
    page.click("#draw-edit")
    page.mouse.move(cx + HALF_PX, cy + HALF_PX)
    page.mouse.down()
    page.mouse.move(cx + INWARD_PX, cy + INWARD_PX, steps=12)
    page.wait_for_function(
        "before => { const c = document.querySelector('#contents');"
        " const core = c.querySelector('.ring[data-kind=core]');"
        " return c.dataset.source === 'preview' && !c.dataset.pending"
        " && core && Number(core.dataset.count) !== before; }", arg=counted)  # fmt: skip
    assert page.locator("#versions li").count() == 1  # nothing saved while dragging
    page.screenshot(path=SCREENSHOTS / "planner_dragging.png")
    previewed = int(page.get_attribute(".ring[data-kind=core]", "data-count") or -1)
    page.mouse.up()
    page.wait_for_selector("#versions li:nth-child(2)")
    page.wait_for_selector("#contents[data-source=saved]")
    with session_factory() as session:
        counted = session.scalar(text(IN_RING), {"name": name})
    saved = int(page.get_attribute(".ring[data-kind=core]", "data-count") or -1)
    assert previewed == counted == saved

    page.fill("#plan-outer", "800")
    page.press("#plan-outer", "Tab")  # a changed distance is saved as the next version
    page.wait_for_selector("#versions li:nth-child(3)")
    assert page.locator(".ring").count() == 2  # the core and one outer ring now

    page.locator("#actions").screenshot(path=SCREENSHOTS / "planner_actions.png")
    with page.expect_download() as downloading:
        page.click("#briefing-html")
    briefing = downloading.value.path().read_text(encoding="utf-8")
    assert name in briefing
    for kind, magic in (("png", b"\x89PNG\r\n\x1a\n"), ("pdf", b"%PDF-")):
        with page.expect_download(timeout=60_000) as downloading:
            page.click(f"#briefing-{kind}")
        assert downloading.value.path().read_bytes().startswith(magic), kind
    with page.expect_download() as downloading:
        page.click("#export-geojson")
    exported = json.loads(downloading.value.path().read_text(encoding="utf-8"))
    in_core = [f for f in exported["features"] if f["properties"]["ring"] == "core"
               and f["properties"]["layer"] == "units"]  # fmt: skip
    assert len(in_core) == counted
