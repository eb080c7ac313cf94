"""Leaflet's script and stylesheet, read from the npm package installed at setup, inlined.

folium links Leaflet (and jQuery, Bootstrap, Font Awesome...) from CDNs; a briefing map
must open on a workstation with no network, so the page carries Leaflet itself, its
images as ``data:`` URLs. The package comes with the map's other front-end libraries
(``make ui``: ``npm ci`` in ``warroom_ui/``).
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from layers.errors import ServiceUnavailable

LEAFLET_DIST = Path(__file__).resolve().parents[3] / "warroom_ui/node_modules/leaflet/dist"
_IMAGE_URL = re.compile(r"url\(images/([\w.-]+\.png)\)")


@dataclass(frozen=True)
class InlineAssets:
    """What a page needs of Leaflet, as text to put in ``<script>`` and ``<style>``."""

    script: str
    stylesheet: str


def _data_url(match: re.Match[str], images: Path) -> str:
    encoded = base64.b64encode((images / match.group(1)).read_bytes()).decode()
    return f"url(data:image/png;base64,{encoded})"


@cache
def _read(dist: Path) -> InlineAssets:
    script = (dist / "leaflet.js").read_text(encoding="utf-8")
    # the source map comment would make a browser's developer tools ask for the file
    script = re.sub(r"//# sourceMappingURL=\S+", "", script)
    css = (dist / "leaflet.css").read_text(encoding="utf-8")
    css = _IMAGE_URL.sub(lambda m: _data_url(m, dist / "images"), css)
    return InlineAssets(script.replace("</script", "<\\/script"), css)


def leaflet_assets(dist: Path = LEAFLET_DIST) -> InlineAssets:
    """Return Leaflet's script and stylesheet, images inlined (503 when not installed)."""
    if not (dist / "leaflet.js").is_file():
        raise ServiceUnavailable("Leaflet is not installed on the server; run `make ui`")
    return _read(dist)
