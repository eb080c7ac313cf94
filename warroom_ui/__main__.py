"""``python -m warroom_ui``: serve the API and the map (``make run``)."""

from __future__ import annotations

from api.cli.checks import load_settings
from warroom_ui.serve import serve


def main() -> None:
    """Serve the app on ``WARROOM_HOST``:``WARROOM_PORT``, saying where to open it."""
    serve(load_settings(), "warroom_ui.app:app_from_env", "The map", "/", "log in as admin; ")


if __name__ == "__main__":
    main()
