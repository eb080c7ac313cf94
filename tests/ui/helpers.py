"""Helpers of the browser tests: Chromium without Chinese fonts, the CLI, the login form."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import Browser, ConsoleMessage, Page, Response, Route

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
WARROOM = Path(sys.executable).parent / "warroom"  # the CLI a person runs
SCREENSHOTS = Path(__file__).parent / "screenshots"
# The system's fonts less every font for Chinese or Japanese (wqy, Noto CJK, ...).
NO_CJK_FONTS = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
  <selectfont><rejectfont>
    <pattern><patelt name="lang"><string>zh-cn</string></patelt></pattern>
    <pattern><patelt name="lang"><string>ja</string></patelt></pattern>
  </rejectfont></selectfont>
</fontconfig>
"""


# A repaint, then MapLibre's "idle": the last tiles' features drawn, every fade ended.
SETTLED = """() => new Promise(resolve => {
  const map = window.warroomMap;
  map.once("idle", resolve);
  map.triggerRepaint();
})"""


def import_file(url: str, *arguments: str) -> str:
    """Run ``warroom import`` as a person would; return what it printed."""
    done = subprocess.run([str(WARROOM), "import", *arguments],
                          env={**os.environ, "WARROOM_DATABASE_URL": url},
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def new_page(browser: Browser) -> Page:
    """Return a page of a fresh browser context, sized like an operator's screen."""
    return browser.new_page(viewport={"width": 1280, "height": 800}, locale="zh-CN")


def log_in(page: Page, user: str, password: str) -> None:
    """Fill the login form and send it."""
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def wait_for_map(page: Page, layer: str) -> None:
    """Wait until the map has drawn every tile of its first view, ``layer`` among them."""
    page.wait_for_function("id => window.warroomMap && window.warroomMap.loaded() && "
                           "window.warroomMap.getLayer(id)", arg=layer)  # fmt: skip
    page.wait_for_function("() => window.warroomMap.areTilesLoaded()")
    page.evaluate(SETTLED)


def cut_network(page: Page, served: str) -> list[str]:
    """Cut ``page`` off from everything but ``served``, as on the police network.

    Return the list that every request for elsewhere (aborted) is added to.
    """
    elsewhere: list[str] = []

    def closed_network(route: Route) -> None:
        if route.request.url.startswith(served):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", closed_network)
    return elsewhere


def console_errors(page: Page) -> list[str]:
    """Return the list that the page's console errors and uncaught errors will be added to."""
    errors: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def failed_responses(page: Page) -> list[str]:
    """Return the list that the page's answers of 400 and above will be added to, as status URL."""
    failed: list[str] = []

    def response(answer: Response) -> None:
        if answer.status >= 400:
            failed.append(f"{answer.status} {answer.url}")

    page.on("response", response)
    return failed
