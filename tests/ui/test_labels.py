"""Chinese labels and page text are drawn with the app's own font, on any machine.

The browser has no system font for Chinese (see ``conftest.py``): the font's files must come
from our origin and cover every drawn label, and the map must look exactly as it does when
every file of the font was loaded before login (labels drawn before their font file came
would differ), and not as it does when the font's files are blocked.
"""

from __future__ import annotations

import base64
from pathlib import Path

from playwright.sync_api import Browser, Page, Response
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from layers.accounts.roles import Role
from tests.ui.helpers import SCREENSHOTS, import_file, log_in, new_page, wait_for_map
from tests.utils.users import PASSWORD, make_user

FONT = "Noto Sans SC Variable"
FONT_FILES = "/ui/vendor/noto-sans-sc/files/"

# For each character of the text, how many loaded faces of our font cover it.
FACES_COVERING = """([family, text]) => {
  const covers = (range, code) => range.split(",").some(part => {
    const [low, high] = part.trim().slice(2).split("-").map(hex => parseInt(hex, 16));
    return code >= low && code <= (high ?? low);
  });
  const faces = [...document.fonts].filter(face => face.status === "loaded"
    && face.family.replace(/["']/g, "") === family);
  return [...text].map(char =>
    faces.filter(face => covers(face.unicodeRange, char.codePointAt(0))).length);
}"""

# Whether the browser's own sans-serif draws "站" as it draws a character no font has.
NO_SYSTEM_CJK = """() => {
  const context = new OffscreenCanvas(8, 8).getContext("2d");
  context.font = "40px sans-serif";
  return context.measureText("站").width === context.measureText("\\uFFFF").width;
}"""

# The names of the station labels the map has drawn.
DRAWN_LABELS = """() => window.warroomMap.queryRenderedFeatures({layers: ["rail_stations-label"]})
  .map(feature => feature.properties.name)"""

# Load every face of every font on the page, as the test's reference.
LOAD_ALL_FONTS = "() => Promise.all([...document.fonts].map(face => face.load()))"

# How many pixels of two PNG images of one size differ visibly.
DIFFERING_PIXELS = """async ([one, other]) => {
  const pixels = async png => {
    // decoded here, not fetched as a data: URL, which the page's CSP (connect-src) refuses
    const bytes = Uint8Array.from(atob(png), c => c.charCodeAt(0));
    const bitmap = await createImageBitmap(new Blob([bytes], { type: "image/png" }));
    const context = new OffscreenCanvas(bitmap.width, bitmap.height).getContext("2d");
    context.drawImage(bitmap, 0, 0);
    return context.getImageData(0, 0, bitmap.width, bitmap.height).data;
  };
  const [a, b] = await Promise.all([pixels(one), pixels(other)]);
  let count = 0;
  for (let i = 0; i < a.length; i += 4) {
    const change = [0, 1, 2].reduce((sum, c) => sum + Math.abs(a[i + c] - b[i + c]), 0);
    if (change > 90) count++;
  }
  return count;
}"""


def _open_map(page: Page, user: str) -> None:
    log_in(page, user, PASSWORD)
    wait_for_map(page, "rail_stations-label")


def _map_png(page: Page) -> str:
    """Return the map's pixels as a base64 PNG."""
    box = page.locator("#map").bounding_box()
    assert box is not None
    return base64.b64encode(page.screenshot(clip=box)).decode()


def test_chinese_labels_are_drawn_with_our_font(
    served: str, scratch_database_url: str, shared_data: Path, browser: Browser
) -> None:
    stations = shared_data / "subway_stations_osm_wgs84.geojson"
    import_file(scratch_database_url, str(stations), "--layer", "rail_stations")
    engine = create_engine(scratch_database_url)
    user = make_user(sessionmaker(bind=engine), Role.ADMIN)
    engine.dispose()
    page = new_page(browser)
    fonts: list[tuple[str, int]] = []

    def response(answer: Response) -> None:
        if answer.url.endswith(".woff2"):
            fonts.append((answer.url, answer.status))

    page.on("response", response)
    page.goto(f"{served}/ui/")
    title = page.wait_for_selector("#login h1")
    assert title is not None
    page.wait_for_function("() => document.fonts.status === 'loaded'")
    assert page.evaluate(NO_SYSTEM_CJK)  # only our font can draw Chinese here
    family = page.evaluate("getComputedStyle(document.querySelector('#login h1')).fontFamily")
    assert family.startswith(f'"{FONT}"')
    assert all(page.evaluate(FACES_COVERING, [FONT, title.inner_text()]))  # the page's text
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "login.png")

    _open_map(page, user)
    page.screenshot(path=SCREENSHOTS / "station_labels.png")
    names = "".join(page.evaluate(DRAWN_LABELS))
    assert sum("\u4e00" <= char <= "\u9fff" for char in names) > 200, names
    assert all(page.evaluate(FACES_COVERING, [FONT, names])), names
    assert fonts and all(url.startswith(served + FONT_FILES) and status == 200
                         for url, status in fonts), fonts  # fmt: skip
    drawn = _map_png(page)

    reference = new_page(browser)  # every font file loaded before the map is drawn
    reference.goto(f"{served}/ui/")
    reference.evaluate(LOAD_ALL_FONTS)
    _open_map(reference, user)
    blocked = new_page(browser)  # the same map without our font's files
    blocked.route(f"**{FONT_FILES}*", lambda route: route.abort())
    blocked.goto(f"{served}/ui/")
    _open_map(blocked, user)
    differing = page.evaluate(DIFFERING_PIXELS, [drawn, _map_png(reference)])
    assert differing == 0, "labels drawn before their font file came"
    differing = page.evaluate(DIFFERING_PIXELS, [drawn, _map_png(blocked)])
    assert differing > 1000, "the labels do not depend on our font"
