"""GDAL's OGC API – Features driver reads every collection and gets what the database holds."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from layers.accounts.roles import Role
from layers.features.registry import all_layers
from layers.settings import Settings
from tests.utils.users import bearer, make_user

pytestmark = pytest.mark.skipif(shutil.which("ogr2ogr") is None, reason="needs gdal-bin")
BOX = (116.30, 39.85, 116.50, 39.98)


@pytest.fixture(scope="module")
def server(settings: Settings, city: None) -> Iterator[str]:
    """Serve the app with uvicorn on a free localhost port in a thread."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    while not uv.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/ogc"
    uv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def token(client: TestClient, session_factory: sessionmaker[Session]) -> str:
    return bearer(client, make_user(session_factory, Role.ADMIN))["Authorization"]


def _ogr2ogr(server: str, token: str, layer: str, out: Path, *extra: str) -> dict[int, dict]:
    command = [
        "ogr2ogr", "-f", "GeoJSON", str(out), f"OAPIF:{server}", layer, "-oo", "PAGE_SIZE=400",
        "-preserve_fid",
        "--config", "GDAL_HTTP_HEADERS", f"Authorization: {token}", *extra,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    features = json.loads(out.read_text())["features"]
    return {int(f["id"]): f for f in features}


@pytest.mark.parametrize("spec", all_layers(), ids=lambda s: s.id)
def test_gdal_reads_every_collection_completely(
    server: str, token: str, session_factory: sessionmaker[Session], tmp_path: Path, spec: object
) -> None:
    from layers.features.registry import LayerSpec

    assert isinstance(spec, LayerSpec)
    got = _ogr2ogr(server, token, spec.id, tmp_path / "out.geojson")
    with session_factory() as session:
        expected = dict(session.execute(select(spec.model.id, spec.model.name)).all())
    assert {k: f["properties"]["name"] for k, f in got.items()} == expected


def test_gdal_bbox_filter_pages_past_the_first_page(
    server: str, token: str, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    from layers.features.models import Unit

    got = _ogr2ogr(server, token, "units", tmp_path / "box.geojson", "-spat", *map(str, BOX))
    with session_factory() as session:
        expected = set(session.scalars(select(Unit.id).where(
            func.ST_Intersects(Unit.geom, func.ST_MakeEnvelope(*BOX, 4326)))).all())  # fmt: skip
    assert len(expected) > 400
    assert set(got) == expected
