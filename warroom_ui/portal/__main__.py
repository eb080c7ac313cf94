"""``python -m warroom_ui.portal``: serve the unit portal (``make portal``)."""

from __future__ import annotations

from api.cli.checks import load_settings
from warroom_ui.portal import PortalSettings, portal_settings
from warroom_ui.serve import serve


def main() -> None:
    """Serve the portal on ``WARROOM_HOST``:``WARROOM_PORT``, saying where to open it."""
    settings = portal_settings(load_settings(), PortalSettings())
    serve(settings, "warroom_ui.portal:portal_app_from_env", "The unit portal", "/portal")


if __name__ == "__main__":
    main()
