"""The API's app with the map page and its front-end libraries, all served locally.

The page loads MapLibre from ``node_modules`` (installed from the npm registry at setup,
``make ui``), never from a CDN, and draws the layers' vector tiles on a plain background:
a police network has no base-map server to ask.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from api.app import create_app
from layers.settings import Settings

HERE = Path(__file__).parent
STATIC = HERE / "static"
MAPLIBRE = HERE / "node_modules" / "maplibre-gl" / "dist"


def create_ui_app(settings: Settings) -> FastAPI:
    """Return the API's app serving the map page at ``/ui/`` (and ``/`` leading there)."""
    if not (MAPLIBRE / "maplibre-gl.js").is_file():
        raise RuntimeError(f"{MAPLIBRE} is missing: run 'make ui' (npm ci in warroom_ui)")
    app = create_app(settings)
    app.mount("/ui/vendor/maplibre", StaticFiles(directory=MAPLIBRE), name="maplibre")
    app.mount("/ui", StaticFiles(directory=STATIC, html=True), name="ui")

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/ui/")

    return app


def app_from_env() -> FastAPI:
    """Return the app configured from the environment (``WARROOM_*``), for uvicorn."""
    return create_ui_app(Settings())
