"""The officer's 待审批 and training colours in /officer: a unit's pending edit of its details
shows in its officer's list with what it would change, the officer approves it on the page and
the database holds the new address; with "colour by training", a unit whose courses are all
passed is drawn in the passed colour, its legend shown.

Screenshot: ``tests/ui/screenshots/officer-approvals.png``.
"""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from playwright.sync_api import Browser, expect
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from layers.accounts.roles import Role
from layers.accounts.service import Jurisdiction
from layers.features.models import Precinct, Unit
from tests.ui.helpers import (
    SCREENSHOTS,
    SETTLED,
    console_errors,
    cut_network,
    log_in,
    new_page,
    wait_for_map,
)
from tests.utils.places import precincts_with_units
from tests.utils.users import PASSWORD, bearer, make_user

PASSED = "rgba(102,187,106,1)"  # COMPLIANCE.passed in officer.js

# The unit's drawn colour and tile properties, as the map rendered it.
RENDERED = """id => {
  const map = window.warroomMap;
  const [hit] = map.queryRenderedFeatures({ layers: ["units-point"] }).filter(f => f.id === id);
  const p = hit?.properties;
  return hit && { paint: hit.layer.paint["circle-color"].toString(),
                  assigned: p.training_assigned, passed: p.training_passed };
}"""


def test_an_officer_approves_a_units_edit_and_sees_training_compliance(
    served_city: str, browser: Browser, client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        precinct = precincts_with_units(session)[4]
        unit = session.scalars(select(Unit).where(Unit.precinct_id == precinct.id)
                               .order_by(Unit.id.desc()).limit(1)).one()  # fmt: skip
        code = session.scalar(select(Precinct.code).where(Precinct.id == precinct.id))
    # the unit's courses are all passed (the summary the tiles read, as certificates keep it)
    with session_factory() as session, session.begin():
        session.execute(text(
            "INSERT INTO unit_training (unit_id, assigned, passed, due) VALUES (:u, 2, 2, NULL) "
            "ON CONFLICT (unit_id) DO UPDATE SET assigned = 2, passed = 2, due = NULL"),
            {"u": unit.id})  # fmt: skip
    # the unit proposes a new address: it waits for the precinct's officer
    address = f"审批测试路{uuid.uuid4().hex[:4]}号"
    user = bearer(client, make_user(session_factory, Role.UNIT, Jurisdiction(unit_id=unit.id)))
    edit = client.patch(f"/api/layers/units/features/{unit.id}", json={"properties": {
        "address": address}}, headers={**user, "If-Match": f'"{unit.version}"'})  # fmt: skip
    assert edit.status_code == 202, edit.text
    approval_id = edit.json()["id"]
    officer = make_user(session_factory, Role.OFFICER, Jurisdiction(precinct_code=code))

    page = new_page(browser)
    errors = console_errors(page)
    elsewhere = cut_network(page, served_city)
    page.goto(f"{served_city}/officer")
    log_in(page, officer, PASSWORD)
    wait_for_map(page, "units-point")
    item = page.locator(f"#approvals li[data-id='{approval_id}']")
    expect(item).to_contain_text(unit.name)
    expect(item.locator(".change")).to_contain_text(address)

    page.check("#training-colours")
    expect(page.locator("#training-legend")).to_be_visible()
    with session_factory() as session:
        x, y = session.execute(text("SELECT ST_X(geom), ST_Y(geom) FROM units WHERE id = :u"),
                               {"u": unit.id}).one()  # fmt: skip
    page.evaluate("c => window.warroomMap.jumpTo({ center: c, zoom: 16 })", [x, y])
    page.wait_for_function("() => window.warroomMap.areTilesLoaded()")
    page.evaluate(SETTLED)
    drawn = page.evaluate(RENDERED, unit.id)
    assert drawn == {"paint": PASSED, "assigned": 2, "passed": 2}

    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "officer-approvals.png"))
    with page.expect_response(lambda r: r.url.endswith(f"/api/approvals/{approval_id}/transitions")
                              and r.status == 200):  # fmt: skip
        item.locator("button.approve").click()
    expect(page.locator("#message")).to_have_text("已同意，单位信息已更新")
    expect(item).to_have_count(0)
    with session_factory() as session:
        assert session.scalar(select(Unit.address).where(Unit.id == unit.id)) == address
        state = session.execute(text("SELECT state FROM records WHERE id = :a"),
                                {"a": approval_id}).scalar()  # fmt: skip
        assert state == "approved"
    assert errors == []
    assert elsewhere == []  # nothing asked of the world beyond our origin
