"""Build the FastAPI application from settings."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.bodies import document_bodies
from api.csrf import CrossSiteWrites
from api.errors import ERROR_RESPONSES, register_error_handlers
from api.guard import UnstorableTextGuard
from api.headers import SecurityHeaders
from api.limits import RequestLimits
from api.links import TrustedHosts
from api.live.hub import EventHub
from api.ogc import routes as ogc
from api.ops.metrics import Metrics
from api.ops.middleware import RequestObserver
from api.ops.recent import RecentErrors
from api.rates import RateLimits
from api.routes import (
    accounts,
    admin,
    alerts,
    approvals,
    attachments,
    audit,
    auth,
    checkins,
    credentials,
    events,
    exports,
    feature_list,
    features,
    feedback,
    forms,
    health,
    imports,
    inbox,
    incident_stats,
    layers,
    map_config,
    metrics,
    notices,
    perimeter_briefing,
    perimeter_contents,
    perimeter_preview,
    perimeters,
    portal,
    record_lists,
    records,
    search,
    selections,
    spatial,
    state,
    stats,
    tiles,
    topics,
    tourism,
    tourism_topics,
    tracks,
    training,
    training_learning,
    training_plans,
    transit,
    unit_accounts,
)
from api.slots import QuerySlots
from layers.accounts.revocations import RevocationListener
from layers.accounts.session_cache import SessionCache
from layers.crypto.keys import bind_key_ring, load_key_ring
from layers.crypto.sm2 import signer_from_files
from layers.database import make_engine, make_sessionmaker
from layers.events import subscribe
from layers.geofence.incidents import follow_incidents
from layers.settings import Settings
from tiles.cache import TileCache
from tiles.listener import ChangeListener
from tiles.pool import TilePool
from tiles.settings import TileSettings


def create_app(settings: Settings, tile_settings: TileSettings | None = None) -> FastAPI:
    """Return the app; the engine lives from startup to shutdown on ``app.state``."""
    tile_settings = tile_settings or TileSettings()
    tile_cache = TileCache(
        tile_settings.cache_bytes, extent=tile_settings.extent, buffer=tile_settings.buffer
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings)
        app.state.engine = engine
        app.state.key_ring = load_key_ring(settings.crypto)
        app.state.signer = signer_from_files(
            settings.crypto.signing_key_file, settings.crypto.verify_key_file
        )
        app.state.sessionmaker = bind_key_ring(make_sessionmaker(engine), app.state.key_ring)
        db = settings.database
        app.state.tile_pool = TilePool(
            engine.url, size=db.pool_size + db.max_overflow, keep=db.pool_size,
            statement_timeout_ms=db.statement_timeout_ms, connect_timeout_s=db.connect_timeout_s,
        )  # fmt: skip
        # health's own connection
        app.state.probe_pool = health.make_probe_pool(engine.url, db.connect_timeout_s)
        # this worker's own writes drop its tiles at commit; the listener hears every worker's
        unsubscribe = subscribe(lambda change: tile_cache.invalidate(change.layer, change.bounds))
        dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        listener = ChangeListener(dsn, on_change=tile_cache.invalidate, on_gap=tile_cache.clear)
        listener.start()
        # every worker forgets a session the moment any worker, or psql, ends it
        revocations = app.state.revocations = RevocationListener(dsn, app.state.session_cache)
        revocations.start()
        # the live stream: one listening connection per worker, shared by all its clients
        hub = app.state.event_hub = EventHub(
            sessions=app.state.sessionmaker, dsn=dsn, settings=settings.stream,
            on_count=app.state.metrics.stream_clients.set,
        )  # fmt: skip
        await hub.start()
        # The ~220,000 objects of start-up live as long as the process: frozen, a full
        # collection skips them instead of holding the event loop ~200 ms to walk them.
        gc.collect()
        gc.freeze()
        yield
        await hub.stop()
        revocations.stop()
        listener.stop()
        unsubscribe()
        app.state.tile_pool.close()
        app.state.probe_pool.close()
        engine.dispose()

    app = FastAPI(title="Warroom", version="0.1.0", lifespan=lifespan, responses=ERROR_RESPONSES)
    app.state.settings = settings
    app.state.session_cache = SessionCache(settings.security.session_cache_seconds)
    app.state.tile_settings = tile_settings
    app.state.tile_cache = tile_cache
    app.state.metrics = Metrics(app.state)
    app.state.recent_errors = RecentErrors(settings.ops.recent_errors)
    register_error_handlers(app)
    follow_incidents()  # the feature door weighs written incidents against perimeter rings
    app.add_middleware(tiles.TileFastPath)  # tiles skip the routing (api/routes/tiles.py)
    app.add_middleware(UnstorableTextGuard)  # it guards the tiles' fast path too
    app.add_middleware(RequestLimits)  # no body is read before its caps and login
    app.add_middleware(CrossSiteWrites, settings=settings)  # CSRF (api/csrf.py)
    app.add_middleware(RateLimits, settings=settings)  # requests a minute (api/rates.py)
    app.add_middleware(TrustedHosts, allowed=settings.allowed_hosts)  # (api/links.py)
    # outermost: every answer gets an id, a log line and a count (api/ops/middleware.py)
    app.add_middleware(RequestObserver, metrics=app.state.metrics, errors=app.state.recent_errors)
    # around even that: every answer, a 500 too, carries them (api/headers.py)
    app.add_middleware(SecurityHeaders, settings=settings)
    app.state.query_slots = QuerySlots(settings.limits)
    for module in (
        health,
        auth,
        layers,
        feature_list,
        features,
        spatial,
        search,
        map_config,
        credentials,
        ogc,
        tiles,
        imports,
        exports,
        approvals,
        records,
        attachments,
        forms,
        checkins,
        notices,
        inbox,
        topics,
        tourism,
        tourism_topics,
        transit,
        stats,
        incident_stats,
        perimeters,
        perimeter_contents,
        perimeter_preview,
        perimeter_briefing,
        record_lists,
        selections,
        tracks,
        alerts,
        events,
        state,
        metrics,
        audit,
        accounts,
        admin,
        feedback,
        training,
        training_plans,
        training_learning,
        portal,
        unit_accounts,
    ):
        app.include_router(module.router)
    document_bodies(app)
    return app


def app_from_env() -> FastAPI:
    """Return the app configured from ``WARROOM_*`` environment variables (for uvicorn)."""
    return create_app(Settings())
