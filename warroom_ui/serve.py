"""Serve one of our apps with uvicorn, the way ``make run`` and ``make portal`` do."""

from __future__ import annotations

import uvicorn

from api.cli.checks import ready_engine
from api.links import proxy_options
from api.live.stream import SHUTDOWN_GRACE_S
from api.ops.logs import configure_logging
from layers.settings import Settings


def serve(settings: Settings, factory: str, name: str, page: str, hint: str = "") -> None:
    """Check the database, say where to open ``page``, then serve ``factory`` (module:name)."""
    configure_logging(settings.ops)
    ready_engine(settings).dispose()
    address = f"http://{settings.host}:{settings.port}{page}"
    print(f"{name}: {address} ({hint}Ctrl+C stops it)", flush=True)
    # uvicorn's records go through our handler; the app logs one line a request itself
    uvicorn.run(factory, factory=True, host=settings.host, port=settings.port, log_config=None,
                access_log=False, timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
                **proxy_options(settings))  # fmt: skip
