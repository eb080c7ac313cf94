"""``python -m warroom_ui.portal``: serve the unit portal (``make portal``)."""

from __future__ import annotations

import uvicorn

from api.cli.checks import load_settings, ready_engine
from api.links import proxy_options
from api.live.stream import SHUTDOWN_GRACE_S
from api.ops.logs import configure_logging
from warroom_ui.portal import PortalSettings, portal_settings


def main() -> None:
    """Serve the portal on ``WARROOM_HOST``:``WARROOM_PORT``, saying where to open it."""
    settings = portal_settings(load_settings(), PortalSettings())
    configure_logging(settings.ops)
    ready_engine(settings).dispose()
    print(
        f"The unit portal: http://{settings.host}:{settings.port}/portal (Ctrl+C stops it)",
        flush=True,
    )
    uvicorn.run("warroom_ui.portal:portal_app_from_env", factory=True, host=settings.host,
                port=settings.port, log_config=None, access_log=False,
                timeout_graceful_shutdown=SHUTDOWN_GRACE_S, **proxy_options(settings))  # fmt: skip


if __name__ == "__main__":
    main()
