"""An officer's desk (/officer): a lasso drawn with the mouse selects what PostGIS finds in the
same polygon, tasks for the whole selection land in the database, and an edit of a unit
changed meanwhile is refused on screen, never written over the other change.

Screenshot: ``tests/ui/screenshots/officer_lasso.png``.
"""

from __future__ import annotations

import json
import math
import uuid

from playwright.sync_api import Browser, Response
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from layers.accounts.roles import Role
from layers.accounts.service import Jurisdiction
from layers.features.models import Precinct, Unit
from tests.ui.helpers import SCREENSHOTS, SETTLED, log_in, new_page, wait_for_map
from tests.utils.users import PASSWORD, make_user

# The precinct with the most units, and the box around them.
BUSIEST = (
    select(Unit.precinct_id, func.ST_Extent(Unit.geom).label("extent"))
    .where(Unit.precinct_id.is_not(None)).group_by(Unit.precinct_id)
    .order_by(func.count().desc(), Unit.precinct_id).limit(1)
)  # fmt: skip

# The units in the lasso with an open task past its due time.
OVERDUE_IN = """SELECT count(DISTINCT u.id) FROM units u
JOIN record_links l ON l.layer = 'units' AND l.feature_id = u.id
JOIN records r ON r.id = l.record_id AND r.kind = 'task' AND r.due_at < now()
 AND r.state NOT IN ('approved', 'archived', 'cancelled')
WHERE u.precinct_id = :p AND ST_Intersects(u.geom, ST_MakeValid(ST_GeomFromGeoJSON(:g)))"""


def _the_selection(response: Response) -> bool:
    """Whether ``response`` answers the selection itself (not a count by attribute)."""
    body = response.request.post_data_json or {}
    return response.url.endswith("/api/selections") and body.get("limit") == 5000


def _scalar(factory: sessionmaker[Session], sql: str, **values: object) -> object:
    with factory() as session, session.begin():
        return session.execute(text(sql), values).scalar()


def test_an_officer_lassoes_units_hands_them_tasks_and_meets_a_conflict(
    served_city: str, browser: Browser, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        precinct_id, extent = session.execute(BUSIEST).one()
        code = session.scalar(select(Precinct.code).where(Precinct.id == precinct_id))
    officer = make_user(session_factory, Role.OFFICER, Jurisdiction(precinct_code=code))
    page = new_page(browser)
    page.goto(f"{served_city}/officer")
    log_in(page, officer, PASSWORD)
    wait_for_map(page, "units-point")
    west, south, east, north = (float(v) for v in extent[4:-1].replace(",", " ").split())
    page.evaluate("b => window.warroomMap.fitBounds(b, {padding: 20, animate: false})",
                  [[west, south], [east, north]])  # fmt: skip
    page.evaluate(SETTLED)

    page.click("button[data-mode=lasso]")
    box = page.locator("#map").bounding_box()
    assert box is not None
    cx, cy, radius = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, 220
    page.mouse.move(cx + radius, cy)
    page.mouse.down()
    for step in range(1, 37):  # a loop of 36 mouse moves, a little lopsided
        angle = step * math.pi / 18
        page.mouse.move(cx + radius * math.cos(angle), cy + 0.7 * radius * math.sin(angle))
    with page.expect_response(_the_selection) as answered:
        page.mouse.up()
    lasso = (answered.value.request.post_data_json or {})["lasso"]
    count = answered.value.json()["count"]
    page.wait_for_selector(f"#selected-count[data-count='{count}']")
    page.wait_for_selector("#selection-list li")
    page.evaluate(SETTLED)
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "officer_lasso.png")
    in_postgis = _scalar(session_factory, "SELECT count(*) FROM units WHERE precinct_id = :p"
                         " AND ST_Intersects(geom, ST_MakeValid(ST_GeomFromGeoJSON(:g)))",
                         p=precinct_id, g=json.dumps(lasso))  # fmt: skip
    assert count == in_postgis and count > 0

    late = _scalar(session_factory, OVERDUE_IN, p=precinct_id, g=json.dumps(lasso))
    page.check("input[name=overdue]")
    page.wait_for_selector(f"#selected-count[data-count='{late}']")
    page.uncheck("input[name=overdue]")
    page.wait_for_selector(f"#selected-count[data-count='{count}']")

    title = f"消防检查 {uuid.uuid4().hex[:6]}"
    page.fill("#task-title", title)
    page.click("#create-tasks")
    page.wait_for_selector(f"#message.ok:has-text('已创建任务 {count} 条')")
    made = _scalar(session_factory, "SELECT count(*) FROM records WHERE kind = 'task'"
                   " AND title = :t", t=title)  # fmt: skip
    assert made == count

    page.click("#selection-list li:first-child button.link")
    page.wait_for_selector("#edit-unit")
    name = page.locator("#card h3").inner_text()
    unit_id = _scalar(session_factory, "SELECT id FROM units WHERE name = :n AND precinct_id = :p"
                      " ORDER BY id LIMIT 1", n=name, p=precinct_id)  # fmt: skip
    _scalar(
        session_factory,
        "UPDATE units SET name = name || '（已更名）', version = version + 1 WHERE id = :u"
        " RETURNING id",
        u=unit_id,
    )  # someone else's edit, after the card was read
    page.fill("#edit-unit input[name=name]", f"{name}（民警修改）")
    page.click("#edit-unit button[type=submit]")
    page.wait_for_selector("#message.error:has-text('未覆盖')")
    kept = _scalar(session_factory, "SELECT name FROM units WHERE id = :u", u=unit_id)
    assert kept == f"{name}（已更名）"
