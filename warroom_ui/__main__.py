"""``python -m warroom_ui``: serve the API and the map (``make run``)."""

from __future__ import annotations

import uvicorn

from layers.settings import Settings


def main() -> None:
    """Serve the app on ``WARROOM_HOST``:``WARROOM_PORT``."""
    settings = Settings()
    uvicorn.run("warroom_ui.app:app_from_env", factory=True, host=settings.host,
                port=settings.port, proxy_headers=False)  # fmt: skip


if __name__ == "__main__":
    main()
