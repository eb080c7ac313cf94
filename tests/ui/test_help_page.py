"""The help centre in Chromium: Chinese help, and a feedback form that sends a PNG screenshot."""

from __future__ import annotations

import httpx
from playwright.sync_api import Browser, FilePayload, expect
from sqlalchemy import create_engine, select
from sqlalchemy.orm import sessionmaker

from layers.accounts.roles import Role
from layers.ops.models import Feedback
from tests.ui.helpers import SCREENSHOTS, console_errors, cut_network, new_page
from tests.utils.users import PASSWORD, make_user

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_a_user_reads_the_help_and_sends_feedback_with_a_screenshot(
    served: str, scratch_database_url: str, browser: Browser
) -> None:
    engine = create_engine(scratch_database_url)
    officer = make_user(sessionmaker(bind=engine), Role.PLANNER)
    page = new_page(browser)
    elsewhere = cut_network(page, served)
    errors = console_errors(page)
    page.goto(f"{served}/help")
    expect(page.locator("#feedback-login")).to_have_text("登录后才能提交反馈。")
    login = page.request.post(f"{served}/api/auth/login",
                              data={"username": officer, "password": PASSWORD})  # fmt: skip
    assert login.ok
    page.goto(f"{served}/help")
    page.locator("#send-feedback").wait_for()
    for heading in ("如何登录", "地图", "图层", "业务记录", "遇到问题找谁"):
        assert page.get_by_role("heading", name=heading).is_visible()
    shot = page.screenshot()  # a picture of the page, as a user's screenshot tool makes
    page.fill("textarea[name=text]", "帮助页面的字体显示正常，建议增加快捷键说明")
    page.set_input_files("#pick", files=FilePayload(name="截图.png", mimeType="image/png",
                                                    buffer=shot))  # fmt: skip
    page.locator("#preview:not([hidden])").wait_for()
    page.screenshot(path=SCREENSHOTS / "help.png", full_page=True)
    page.get_by_role("button", name="提交反馈").click()
    page.locator("#feedback-status.ok").wait_for()
    assert "反馈已提交" in page.locator("#feedback-status").inner_text()
    with sessionmaker(bind=engine)() as session:
        stored = session.scalars(select(Feedback).where(Feedback.author_name == officer)).one()
        image = stored.screenshot
    engine.dispose()
    assert stored.text == "帮助页面的字体显示正常，建议增加快捷键说明"
    assert stored.page_url == "/help" and image is not None and image.startswith(PNG_SIGNATURE)
    assert errors == []
    assert elsewhere == []  # the page asked nothing of the outside world
    assert httpx.get(f"{served}/help").headers["content-type"].startswith("text/html")
