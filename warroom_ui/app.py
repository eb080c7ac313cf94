"""The API's app with the map page and its front-end libraries, all served locally.

The pages (thin ES modules on the shared core, ``static/core/``) load MapLibre and their
Chinese font (Noto Sans SC, woff2 slices by unicode range) from ``node_modules`` (installed
from the npm registry at setup, ``make ui``), never from a CDN, and draw the layers' vector
tiles on a base map drawn from our own data (``core/basemap.js``): a police network has no
public base-map server to ask (an internal one is a setting, WARROOM_MAP_BASEMAP_URL), and
a workstation may have no Chinese font of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from api.app import create_app
from layers.settings import Settings

HERE = Path(__file__).parent
STATIC = HERE / "static"
NODE_MODULES = HERE / "node_modules"
# URL under /ui/vendor/ -> (npm package directory, a file that proves it is installed)
VENDOR = {
    "maplibre": (NODE_MODULES / "maplibre-gl" / "dist", "maplibre-gl-csp.js"),
    "noto-sans-sc": (NODE_MODULES / "@fontsource-variable" / "noto-sans-sc", "index.css"),
    "echarts": (NODE_MODULES / "echarts" / "dist", "echarts.esm.min.js"),
    "terra-draw": (NODE_MODULES / "terra-draw" / "dist", "terra-draw.umd.js"),
    "terra-draw-maplibre": (
        NODE_MODULES / "terra-draw-maplibre-gl-adapter" / "dist",
        "terra-draw-maplibre-gl-adapter.umd.js",
    ),
}


# Pages at their own addresses (their modules and styles are under /ui/).
PAGES = {
    "/admin": "admin.html", "/help": "help.html", "/warroom": "warroom.html",
    "/officer": "officer.html", "/planner": "planner.html", "/m": "m.html",
    "/tourism": "tourism.html",
}  # fmt: skip


def _page(name: str) -> Callable[[], FileResponse]:
    def page() -> FileResponse:
        return FileResponse(STATIC / name, headers={"Cache-Control": "no-cache"})

    return page


def create_ui_app(settings: Settings) -> FastAPI:
    """Return the API's app serving the map at ``/ui/`` (``/`` leads there), /admin, /help
    and the command center's wall at /warroom."""
    for directory, marker in VENDOR.values():
        if not (directory / marker).is_file():
            raise RuntimeError(f"{directory} is missing: run 'make ui' (npm ci in warroom_ui)")
    app = create_app(settings)
    for name, (directory, _) in VENDOR.items():
        app.mount(f"/ui/vendor/{name}", StaticFiles(directory=directory), name=name)
    app.mount("/ui", StaticFiles(directory=STATIC, html=True), name="ui")

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/ui/")

    for path, page in PAGES.items():
        app.add_api_route(path, _page(page), include_in_schema=False)

    return app


def app_from_env() -> FastAPI:
    """Return the app configured from the environment (``WARROOM_*``), for uvicorn."""
    return create_ui_app(Settings())
