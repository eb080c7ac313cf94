"""``python -m warroom_ui``: serve the API and the map (``make run``)."""

from __future__ import annotations

import uvicorn

from api.cli.checks import load_settings, ready_engine
from api.links import proxy_options
from api.live.stream import SHUTDOWN_GRACE_S
from api.ops.logs import configure_logging


def main() -> None:
    """Serve the app on ``WARROOM_HOST``:``WARROOM_PORT``, saying where to open it."""
    settings = load_settings()
    configure_logging(settings.ops)
    ready_engine(settings).dispose()
    print(
        f"The map: http://{settings.host}:{settings.port}/ (log in as admin; Ctrl+C stops it)",
        flush=True,
    )
    # uvicorn's records go through our handler; the app logs one line a request itself
    uvicorn.run("warroom_ui.app:app_from_env", factory=True, host=settings.host,
                port=settings.port, log_config=None, access_log=False,
                timeout_graceful_shutdown=SHUTDOWN_GRACE_S, **proxy_options(settings))  # fmt: skip


if __name__ == "__main__":
    main()
