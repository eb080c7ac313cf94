"""The unit portal in Chromium, one unit's part of the work from end to end: it activates its
invitation on a phone and edits its details (pending until its officer approves them on
/officer's 待审批), submits a self-check that opens a hazard, rectifies it with a photo,
reports a guard, then opens the learning centre from home, studies the course the bureau's
plan gave it and passes its quiz; the officer's map, coloured by training, turns the unit
from due to passed. The same portal on a desk.

Screenshots: ``tests/ui/screenshots/portal-*.png``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from layers.accounts.roles import Role
from layers.accounts.service import Jurisdiction
from layers.features.models import Precinct, Unit
from layers.settings import Settings
from tests.api.test_training import QUESTIONS, RIGHT
from tests.ui.helpers import (
    SCREENSHOTS,
    SETTLED,
    console_errors,
    cut_network,
    log_in,
    new_page,
    wait_for_map,
)
from tests.ui.test_officer_approvals import PASSED, RENDERED
from tests.utils.images import png_bytes
from tests.utils.places import precincts_with_units
from tests.utils.portal import invite, planned_course, self_check_form
from tests.utils.servers import served
from tests.utils.users import PASSWORD, bearer, make_user
from warroom_ui.portal import create_portal_app

NEW_ADDRESS = "门户测试路8号"
DUE = "rgba(255,202,40,1)"  # COMPLIANCE.due in officer.js


@pytest.fixture(scope="module")
def portal_url(settings: Settings, city: None) -> Iterator[str]:
    """The portal app on the run's database with its demo city, at the returned base URL."""
    with served(create_portal_app(settings)) as url:
        yield url


def _tab(page: Page, name: str) -> None:
    page.locator("nav.tabs button", has_text=name).click()


def _shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def _unit_on_map(page: Page, at: tuple[float, float], unit_id: int) -> object:
    """Return the unit's drawn colour and training figures, the map coloured by training."""
    page.evaluate("c => window.warroomMap.jumpTo({ center: c, zoom: 16 })", list(at))
    page.wait_for_function("() => window.warroomMap.areTilesLoaded()")
    page.evaluate(SETTLED)
    return page.evaluate(RENDERED, unit_id)


def test_a_unit_does_its_part_in_the_portal(
    browser: Browser, portal_url: str, served_city: str, client: TestClient,
    session_factory: sessionmaker[Session],
) -> None:  # fmt: skip
    with session_factory() as session:
        precinct = precincts_with_units(session)[1]
        unit_id, x, y = session.execute(text(
            "SELECT id, ST_X(geom), ST_Y(geom) FROM units WHERE precinct_id = :p "
            "ORDER BY id DESC LIMIT 1"), {"p": precinct.id}).one()  # fmt: skip
        code = session.scalar(select(Precinct.code).where(Precinct.id == precinct.id))
    officer = make_user(session_factory, Role.OFFICER, Jurisdiction(precinct_code=code))
    commander = bearer(client, make_user(session_factory, Role.COMMANDER))
    assert client.post("/api/forms", json=self_check_form(), headers=commander).status_code == 201
    course_id = planned_course(client, commander, unit_id)
    invitation = invite(client, bearer(client, officer), unit_id)["code"]

    # the officer's map, coloured by training: the unit's course is still due
    desk = new_page(browser)
    desk_errors = console_errors(desk)
    desk_elsewhere = cut_network(desk, served_city)
    desk.goto(f"{served_city}/officer")
    log_in(desk, officer, PASSWORD)
    wait_for_map(desk, "units-point")
    desk.check("#training-colours")
    assert _unit_on_map(desk, (x, y), unit_id) == {"paint": DUE, "assigned": 1, "passed": 0}

    page = browser.new_page(viewport={"width": 360, "height": 740}, locale="zh-CN",
                            has_touch=True, is_mobile=True)  # fmt: skip
    errors = console_errors(page)
    elsewhere = cut_network(page, portal_url)
    # the invitation link: choose a name and a password, then log in
    page.goto(f"{portal_url}/portal#join={invitation}")
    page.fill("#join input[name=username]", f"unit{unit_id}")
    page.fill("#join input[name=password]", PASSWORD)
    page.fill("#join input[name=repeat]", PASSWORD)
    page.click("#join button[type=submit]")
    expect(page.locator(".joined")).to_be_visible()
    page.fill("#login input[name=username]", f"unit{unit_id}")
    page.fill("#login input[name=password]", PASSWORD)
    page.click("#login button[type=submit]")
    expect(page.locator("main#view h2")).to_have_text("首页")
    expect(page.locator(f"li[data-course='{course_id}']")).to_contain_text("学习中")
    _shot(page, "portal-home-phone.png")

    # details: the edit waits for the precinct's officer, who approves it on /officer
    _tab(page, "单位")
    page.fill("#unit-edit input[name=address]", NEW_ADDRESS)
    page.click("#unit-edit button[type=submit]")
    expect(page.locator("#message")).to_contain_text("待辖区民警审批")
    expect(page.locator(".badge.wait")).to_have_count(1)
    _shot(page, "portal-unit-pending-phone.png")
    desk.reload()
    proposal = desk.locator("#approvals li", has_text=NEW_ADDRESS)
    expect(proposal.locator(".change")).to_contain_text(NEW_ADDRESS)
    proposal.locator("button.approve").click()
    expect(desk.locator("#message")).to_have_text("已同意，单位信息已更新")
    expect(proposal).to_have_count(0)
    _tab(page, "单位")
    expect(page.locator("dl.details").first).to_contain_text(NEW_ADDRESS)
    expect(page.locator(".badge.wait")).to_have_count(0)

    # a self-check with a "no" opens a hazard, handed to the unit
    _tab(page, "自查")
    page.locator("#self-check label.switch", has_text="安全出口畅通").locator("input").uncheck()
    page.click("#self-check button[type=submit]")
    expect(page.locator("#message")).to_contain_text("发现隐患 1 项")

    # the hazard: start rectifying, then upload the rectification photo
    _tab(page, "隐患")
    page.locator("ul.list button.link", has_text="消防安全自查表").first.click()
    page.locator(".actions button", has_text="开始整改").click()
    expect(page.locator("dl.details")).to_contain_text("整改中")
    photo = {"name": "after.png", "mimeType": "image/png", "buffer": png_bytes(40, 30)}
    page.set_input_files("#rectification input[name=file]", photo)  # type: ignore[arg-type]
    page.fill("#rectification input[name=caption]", "出口已清理")
    page.click("#rectification button[type=submit]")
    expect(page.locator(".photos img")).to_have_count(1)
    expect(page.locator(".photos figcaption")).to_contain_text("出口已清理")
    page.wait_for_function(
        "() => [...document.images].every(i => i.complete && i.naturalWidth > 0)"
    )
    _shot(page, "portal-hazard-rectified-phone.png")

    # a security guard reported (the name is personal: masked once sent)
    _tab(page, "人员")
    page.fill("#staff_registration-form input[name=person_name]", "张三")
    page.fill("#staff_registration-form input[name=id_number]", "110101199001011234")
    page.fill("#staff_registration-form input[name=phone]", "13900139000")
    page.click("#staff_registration-form button[type=submit]")
    expect(page.locator("#message")).to_have_text("已提交")
    expect(page.locator("ul.list")).to_contain_text("人员报备：安保负责人")

    # a notice from the precinct: opened and marked read, its sender sees the receipt
    title, body = "门户通知：消防检查", "请做好迎检准备。"
    notice = client.post("/api/notices", json={"title": title, "body": body, "units": [unit_id]},
                         headers=bearer(client, officer))  # fmt: skip
    assert notice.status_code == 201, notice.text
    _tab(page, "通知")
    page.locator("ul.list button.link", has_text=title).click()
    expect(page.locator("p.body")).to_have_text(body)
    page.locator("button", has_text="标为已读").click()
    expect(page.locator("ul.list li", has_text=title)).to_contain_text("已读")
    receipts = client.get(f"/api/notices/{notice.json()['id']}/receipts",
                          headers=bearer(client, officer))  # fmt: skip
    assert receipts.json()["read"] == 1

    # 单位巡查: the unit's checks, its self-check among them with the failed item
    _tab(page, "巡查")
    expect(page.locator("ul.list li", has_text="消防安全自查表")).to_contain_text("安全出口畅通")
    _shot(page, "portal-patrols-phone.png")

    # from home to the learning centre: study the course, pass its quiz, back to the portal
    _tab(page, "首页")
    page.click("#to-training")
    page.locator(f"li[data-course='{course_id}'] button.link").click()
    expect(page.locator("main#view h2")).to_have_text("门户安保培训")
    expect(page.locator("li[data-resource]")).to_have_count(2)
    for part in page.locator("li[data-resource]").all():
        part.locator("button", has_text="学习此资料").click()
        expect(part).to_contain_text("已学习")
    for question in QUESTIONS:
        for index in RIGHT[question["id"]]:
            page.check(f"fieldset[data-question='{question['id']}'] input[value='{index}']")
    page.click("#quiz button[type=submit]")
    expect(page.locator("#message")).to_contain_text("得分 100，通过")
    _shot(page, "portal-training-passed-phone.png")
    page.click("header.bar a[href='/portal']")
    expect(page.locator(f"li[data-course='{course_id}']")).to_contain_text("已通过")

    # the same portal on a desk
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(page.locator(".counts")).to_contain_text("未整改隐患")
    _shot(page, "portal-home-desktop.png")
    assert re.search(r"/portal$", page.url)

    # the officer's map, drawn anew: the unit has passed its training
    desk.reload()
    wait_for_map(desk, "units-point")
    desk.check("#training-colours")
    assert _unit_on_map(desk, (x, y), unit_id) == {"paint": PASSED, "assigned": 1, "passed": 1}
    desk.screenshot(path=str(SCREENSHOTS / "portal-officer-map-passed.png"))
    with session_factory() as session:
        assert session.scalar(select(Unit.address).where(Unit.id == unit_id)) == NEW_ADDRESS
    assert not errors and not desk_errors, (errors, desk_errors)
    assert not elsewhere and not desk_elsewhere, (elsewhere, desk_elsewhere)
