"""The HTTP API (FastAPI) and the ``warroom`` command line."""
