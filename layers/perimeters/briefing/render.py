"""The briefing map as PNG or PDF, drawn by headless Chromium with no network at all."""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from pathlib import Path

from layers.errors import ServiceUnavailable

logger = logging.getLogger(__name__)
PAGE_SIZE_PX = (1400, 1400)  # the screenshot: the map (620 px) and the tables under it
_FORMATS = {"png": "--screenshot={out}", "pdf": "--print-to-pdf={out}"}


def _command(chromium: str, profile: Path, page: Path, out: Path, kind: str) -> list[str]:
    width, height = PAGE_SIZE_PX
    return [
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        f"--user-data-dir={profile}", "--disable-extensions", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-default-browser-check",
        '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost',  # no name resolves
        "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",  # nor any address
        f"--window-size={width},{height}", "--hide-scrollbars", "--no-pdf-header-footer",
        "--virtual-time-budget=5000",  # let Leaflet draw before the shot
        _FORMATS[kind].format(out=out), page.as_uri(),
    ]  # fmt: skip


def render_page(html: str, kind: str, *, chromium: str, timeout_s: float) -> bytes:
    """Return ``html`` rendered as ``kind`` (``png`` or ``pdf``) by headless Chromium."""
    browser = shutil.which(chromium)
    if browser is None:
        raise ServiceUnavailable(f"the renderer {chromium!r} is not installed on the server")
    with tempfile.TemporaryDirectory(prefix="warroom-briefing-") as scratch:
        folder = Path(scratch)
        page, out = folder / "briefing.html", folder / f"briefing.{kind}"
        page.write_text(html, encoding="utf-8")
        command = _command(browser, folder / "profile", page, out, kind)
        try:
            done = subprocess.run(command, capture_output=True, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired as error:
            raise ServiceUnavailable(f"the renderer took longer than {timeout_s:g} s") from error
        if done.returncode != 0 or not out.is_file():
            logger.warning("chromium failed (%s): %s", done.returncode, done.stderr[-2000:])
            raise ServiceUnavailable("the renderer failed to draw the briefing map")
        return out.read_bytes()
