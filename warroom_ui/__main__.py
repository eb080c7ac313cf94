"""``python -m warroom_ui``: serve the API and the map (``make run``)."""

from __future__ import annotations

import uvicorn

from api.cli.checks import load_settings, ready_engine


def main() -> None:
    """Serve the app on ``WARROOM_HOST``:``WARROOM_PORT``, saying where to open it."""
    settings = load_settings()
    ready_engine(settings).dispose()
    print(
        f"The map: http://{settings.host}:{settings.port}/ (log in as admin; Ctrl+C stops it)",
        flush=True,
    )
    uvicorn.run("warroom_ui.app:app_from_env", factory=True, host=settings.host,
                port=settings.port, proxy_headers=False, log_level="warning")  # fmt: skip


if __name__ == "__main__":
    main()
