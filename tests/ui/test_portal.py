"""The unit portal in Chromium: a unit activates its invitation on a phone, edits its details
(pending until its officer approves through the API), submits a self-check that opens a
hazard, starts rectifying it and uploads a rectification photo; the same pages on a desk."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from layers.accounts.roles import Role
from layers.accounts.service import Jurisdiction
from layers.features.models import Unit
from layers.settings import Settings
from tests.ui.helpers import SCREENSHOTS, cut_network
from tests.utils.images import png_bytes
from tests.utils.places import precincts_with_units
from tests.utils.portal import invite, self_check_form
from tests.utils.servers import served
from tests.utils.users import PASSWORD, bearer, make_user
from warroom_ui.portal import create_portal_app

NEW_ADDRESS = "门户测试路8号"


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


def test_a_unit_does_its_part_in_the_portal(
    browser: Browser, portal_url: str, client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        precinct = precincts_with_units(session)[1]
        unit_id = session.scalars(select(Unit.id).where(Unit.precinct_id == precinct.id)
                                  .order_by(Unit.id.desc()).limit(1)).one()  # fmt: skip
    officer = bearer(client, make_user(session_factory, Role.OFFICER,
                                       Jurisdiction(precinct_code=precinct.code)))  # fmt: skip
    commander = bearer(client, make_user(session_factory, Role.COMMANDER))
    assert client.post("/api/forms", json=self_check_form(), headers=commander).status_code == 201
    code = invite(client, officer, unit_id)["code"]

    page = browser.new_page(viewport={"width": 360, "height": 740}, locale="zh-CN",
                            has_touch=True, is_mobile=True)  # fmt: skip
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    elsewhere = cut_network(page, portal_url)
    # the invitation link: choose a name and a password, then log in
    page.goto(f"{portal_url}/portal#join={code}")
    page.fill("#join input[name=username]", f"unit{unit_id}")
    page.fill("#join input[name=password]", PASSWORD)
    page.fill("#join input[name=repeat]", PASSWORD)
    page.click("#join button[type=submit]")
    expect(page.locator(".joined")).to_be_visible()
    page.fill("#login input[name=username]", f"unit{unit_id}")
    page.fill("#login input[name=password]", PASSWORD)
    page.click("#login button[type=submit]")
    expect(page.locator("main#view h2")).to_have_text("首页")
    _shot(page, "portal-home-phone.png")

    # details: the edit waits for the precinct's officer
    _tab(page, "单位")
    page.fill("#unit-edit input[name=address]", NEW_ADDRESS)
    page.click("#unit-edit button[type=submit]")
    expect(page.locator("#message")).to_contain_text("待辖区民警审批")
    expect(page.locator(".badge.wait")).to_have_count(1)
    _shot(page, "portal-unit-pending-phone.png")
    pending = f"/api/layers/units/features/{unit_id}/records?kind=approval&state=pending"
    approvals = client.get(pending, headers=officer).json()["data"]
    assert len(approvals) == 1
    decided = client.post(
        f"/api/approvals/{approvals[0]['id']}/transitions", json={"action": "approve"},
        headers={**officer, "If-Match": f'"{approvals[0]["version"]}"'},
    )  # fmt: skip
    assert decided.status_code == 200, decided.text
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

    # the same portal on a desk
    page.set_viewport_size({"width": 1280, "height": 800})
    _tab(page, "首页")
    expect(page.locator(".counts")).to_contain_text("未整改隐患")
    _shot(page, "portal-home-desktop.png")
    assert not errors, errors
    assert not elsewhere, elsewhere
    assert re.search(r"/portal$", page.url)
