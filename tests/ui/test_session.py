"""Whoever is not logged in sees the login form, and the console stays clean throughout.

Opening the page, logging in, reloading, logging out and opening it again logs no error in
the browser's console: the page asks whether it is logged in without a failing request.
The network beyond our origin is cut, as on the police network, and nothing reaches for it.
"""

from __future__ import annotations

from playwright.sync_api import Browser
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from layers.accounts.roles import Role
from tests.ui.helpers import (
    console_errors,
    cut_network,
    failed_responses,
    log_in,
    new_page,
    wait_for_map,
)
from tests.utils.users import PASSWORD, make_user

LOGIN_SHOWN = "#login:not([hidden])"


def test_no_console_error_on_load_login_and_logout(
    served: str, scratch_database_url: str, browser: Browser
) -> None:
    engine = create_engine(scratch_database_url)
    user = make_user(sessionmaker(bind=engine), Role.COMMANDER)
    engine.dispose()
    page = new_page(browser)
    errors = console_errors(page)
    failed = failed_responses(page)
    elsewhere = cut_network(page, served)

    page.goto(f"{served}/ui/")
    page.wait_for_selector(LOGIN_SHOWN)
    page.wait_for_load_state("networkidle")
    on_load = list(errors)
    log_in(page, user, PASSWORD)
    wait_for_map(page, "rail_stations-point")
    assert page.is_hidden("#login")
    page.reload()  # the session cookie from before: straight to the map, no form
    wait_for_map(page, "rail_stations-point")
    assert page.is_hidden("#login")
    page.click("#logout")
    page.wait_for_selector(LOGIN_SHOWN)
    assert page.evaluate("window.warroomMap") is None and page.locator("#sidebar").is_hidden()
    page.reload()
    page.wait_for_selector(LOGIN_SHOWN)
    page.wait_for_load_state("networkidle")
    session = page.evaluate("fetch('/api/auth/session').then(answer => answer.json())")
    assert on_load == [] and errors == [], failed
    assert failed == []
    assert session == {"authenticated": False}  # logging out ended the session
    assert elsewhere == []  # the page asked nothing of the outside world
