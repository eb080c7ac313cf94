"""An administrator's first login on the page: change the initial password, enrol an
authenticator app, then the map; the next login asks for the app's code (#14: 1).

The app runs with the production roles for the second factor; the code is what an
authenticator app with the shown secret would display.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from layers.accounts.roles import Role
from tests.ui.helpers import SCREENSHOTS, log_in, new_page, wait_for_map
from tests.utils.users import PASSWORD, make_user, totp_code

ACCOUNT_SHOWN = "#account:not([hidden])"
NEW_PASSWORD = "Own-first-password-7"


@pytest.fixture
def second_factor_roles(monkeypatch: pytest.MonkeyPatch) -> None:
    """The served app's settings (made after this) with the production roles."""
    monkeypatch.setenv("WARROOM_SECURITY_SECOND_FACTOR_ROLES", "admin,security_admin,auditor")


def test_first_login_changes_the_password_enrols_totp_then_shows_the_map(
    second_factor_roles: None, served: str, scratch_database_url: str, browser: Browser
) -> None:
    engine = create_engine(scratch_database_url)
    user = make_user(sessionmaker(bind=engine), Role.ADMIN, initial_password=True)
    engine.dispose()
    page = new_page(browser)
    page.goto(f"{served}/ui/")
    log_in(page, user, PASSWORD)
    page.wait_for_selector(f"{ACCOUNT_SHOWN} #account-title:has-text('请先修改密码')")
    page.fill("input[name=old_password]", PASSWORD)
    page.fill("input[name=new_password]", "weak-password")
    page.fill("input[name=repeat_password]", "weak-password")
    page.click("#account button[type=submit]")
    page.wait_for_selector("#account-error:has-text('at least 3 of')")  # the server's rule
    page.fill("input[name=new_password]", NEW_PASSWORD)
    page.fill("input[name=repeat_password]", NEW_PASSWORD)
    page.click("#account button[type=submit]")
    page.wait_for_selector(f"{ACCOUNT_SHOWN} #account-title:has-text('请绑定动态口令')")
    secret = page.wait_for_selector("#totp-secret:not(:empty)").inner_text()  # type: ignore[union-attr]
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "first_login_totp.png")
    page.fill("input[name=code]", totp_code(secret))
    page.click("#account button[type=submit]")
    wait_for_map(page, "units-point")
    assert page.is_hidden("#account") and page.is_hidden("#login")
    page.click("#logout")
    page.wait_for_selector("#login:not([hidden])")
    log_in(page, user, NEW_PASSWORD)  # no code: refused like a wrong password
    page.wait_for_selector("#login-error:has-text('动态口令错误')")
    page.fill("input[name=totp_code]", totp_code(secret, steps_ahead=1))
    page.click("button[type=submit]")
    wait_for_map(page, "units-point")
