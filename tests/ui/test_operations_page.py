"""The operations page (运维中心) in Chromium: an admin revokes a session and triages feedback;
a user without the role is refused by the API and told so by the page, in Chinese."""

from __future__ import annotations

import os

import httpx
from playwright.sync_api import Browser, Page, Response
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from layers.accounts.roles import Role
from tests.ui.helpers import SCREENSHOTS, console_errors, cut_network, new_page
from tests.utils.images import png_bytes
from tests.utils.users import PASSWORD, make_user


def _users(url: str, *roles: Role) -> list[str]:
    engine = create_engine(url)
    names = [make_user(sessionmaker(bind=engine), role) for role in roles]
    engine.dispose()
    return names


def _browser_login(page: Page, served: str, username: str) -> None:
    """Log the page's browser context in (its cookie), as the map's login form does."""
    answer = page.request.post(f"{served}/api/auth/login",
                               data={"username": username, "password": PASSWORD})  # fmt: skip
    assert answer.ok, answer.text()


def _token(served: str, username: str) -> dict[str, str]:
    answer = httpx.post(f"{served}/api/auth/login",
                        json={"username": username, "password": PASSWORD})  # fmt: skip
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def test_an_admin_revokes_a_session_and_triages_feedback(
    served: str, scratch_database_url: str, browser: Browser
) -> None:
    admin, commander = _users(scratch_database_url, Role.ADMIN, Role.COMMANDER)
    victim = _token(served, commander)
    sent = httpx.post(f"{served}/api/feedback", headers=victim,
                      data={"text": "图层列表中“公交站”的数量不对", "page_url": "/ui/"},
                      files={"screenshot": ("s.png", png_bytes(120, 80, noise=os.urandom(9600)),
                                              "image/png")})  # fmt: skip
    assert sent.status_code == 201, sent.text
    page = new_page(browser)
    elsewhere = cut_network(page, served)
    errors = console_errors(page)
    _browser_login(page, served, admin)
    page.goto(f"{served}/admin")
    row = page.locator("#sessions tr", has_text=commander)
    row.wait_for()
    assert page.locator("#sessions .badge", has_text="当前会话").count() == 1  # the admin's own
    page.locator("#users tr", has_text=commander).wait_for()
    thumb = page.locator(f"#feedback img[src$='/{sent.json()['id']}/screenshot']")
    thumb.wait_for()
    assert page.evaluate("img => img.naturalWidth", thumb.element_handle()) == 120
    page.screenshot(path=SCREENSHOTS / "admin.png", full_page=True)

    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="撤销").click()
    row.wait_for(state="detached")  # the list was read again without it
    assert httpx.get(f"{served}/api/auth/me", headers=victim).status_code == 401

    triage = page.locator(f"[data-feedback='{sent.json()['id']}']")
    triage.locator("select").select_option("in_progress")
    triage.locator("input[name=note]").fill("已转交数据组核对")
    triage.get_by_role("button", name="保存").click()
    saved = page.locator(f"[data-feedback='{sent.json()['id']}'] option[value=done]")
    saved.wait_for(state="attached")  # the list was read again: done is now a next status
    admin_api = _token(served, admin)
    listed = httpx.get(f"{served}/api/admin/feedback", headers=admin_api).json()["data"]
    (mine,) = [f for f in listed if f["id"] == sent.json()["id"]]
    assert (mine["status"], mine["note"], mine["version"]) == ("in_progress", "已转交数据组核对", 2)
    assert page.locator("#feedback .badge", has_text="处理中").count() >= 1
    page.screenshot(path=SCREENSHOTS / "admin-triaged.png", full_page=True)
    assert errors == []
    assert elsewhere == []  # the page asked nothing of the outside world


def test_a_user_without_the_role_gets_no_admin_data(
    served: str, scratch_database_url: str, browser: Browser
) -> None:
    (planner,) = _users(scratch_database_url, Role.PLANNER)
    page = new_page(browser)
    statuses: dict[str, int] = {}

    def response(answer: Response) -> None:
        if answer.url.startswith(f"{served}/api/admin/"):
            statuses[answer.url.split("?")[0]] = answer.status

    page.on("response", response)
    _browser_login(page, served, planner)
    page.goto(f"{served}/admin")
    notice = page.locator("#notice")
    notice.wait_for()
    assert "您没有权限查看运维中心" in notice.inner_text()
    assert page.locator("#sections").is_hidden()
    assert len(statuses) == 6 and set(statuses.values()) == {403}, statuses
    page.screenshot(path=SCREENSHOTS / "admin-forbidden.png", full_page=True)


def test_the_page_asks_to_log_in_first(served: str, browser: Browser) -> None:
    page = new_page(browser)
    page.goto(f"{served}/admin")
    page.locator("#notice a[href='/ui/']").wait_for()
    assert "请先在地图页登录" in page.locator("#notice").inner_text()
