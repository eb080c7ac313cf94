"""Build the FastAPI application from settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.errors import register_error_handlers
from api.routes import auth, features, health, layers
from layers.database import make_engine, make_sessionmaker
from layers.settings import Settings


def create_app(settings: Settings) -> FastAPI:
    """Return the app; the engine lives from startup to shutdown on ``app.state``."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings)
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
        yield
        engine.dispose()

    app = FastAPI(title="Warroom", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    register_error_handlers(app)
    for module in (health, auth, layers, features):
        app.include_router(module.router)
    return app


def app_from_env() -> FastAPI:
    """Return the app configured from ``WARROOM_*`` environment variables (for uvicorn)."""
    return create_app(Settings())
