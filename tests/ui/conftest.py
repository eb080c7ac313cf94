"""Fixtures of the browser tests: the map app on a port of its own and Debian's Chromium.

The browser sees no system font that covers Chinese (a fontconfig of the system's fonts
without them): whatever Chinese the page shows, it shows with the app's own font.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, sync_playwright

from layers.settings import DatabaseSettings, SecuritySettings, Settings
from tests.ui.helpers import CHROMIUM, NO_CJK_FONTS
from warroom_ui.app import create_ui_app


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(scratch_database_url: str) -> Iterator[str]:
    """The map app on a database of the test's own, at the returned base URL."""
    settings = Settings(database=DatabaseSettings(url=scratch_database_url),
                        security=SecuritySettings(session_cache_seconds=0))  # fmt: skip
    yield from _serve(settings)


@pytest.fixture(scope="module")
def served_city(settings: Settings, city: None) -> Iterator[str]:
    """The map app on the run's database with its demo city, at the returned base URL."""
    yield from _serve(settings)


def _serve(settings: Settings) -> Iterator[str]:
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_ui_app(settings), host="127.0.0.1",
                                           port=port, log_level="warning"))  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the app did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    """Headless Chromium that has no system font for Chinese."""
    config = tmp_path / "fonts.conf"
    config.write_text(NO_CJK_FONTS)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            env={**os.environ, "FONTCONFIG_FILE": str(config)},
        )  # fmt: skip
        yield launched
        launched.close()
