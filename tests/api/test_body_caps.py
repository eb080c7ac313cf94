"""Every write route refuses an oversized body with a 413, never a 500 (#14.5).

The table is the app's own OpenAPI document: a write route added tomorrow is in it.
Each gets a JSON body one byte over the cap, once with its length declared (refused
before a byte is read) and once streamed in chunks (cut off where it passes the cap, or
refused for its path before the body is read).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.limits import body_cap
from importers.settings import ImportSettings
from layers.settings import Settings

WRITE_METHODS = ("post", "put", "patch", "delete")
# Path parameters filled with values of the right shape; whether they exist does not matter.
PARAMETERS = {"layer": "units", "collection_id": "units", "code": "inspection"}
IMPORT_CAP = 1024


def write_operations(settings: Settings) -> list[tuple[str, str]]:
    """Return (METHOD, path) of every documented write operation of the app."""
    document = create_app(settings).openapi()
    return [(method.upper(), path) for path, operations in document["paths"].items()
            for method in operations if method in WRITE_METHODS]  # fmt: skip


def _url(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: PARAMETERS.get(m.group(1), "1"), path)


def _oversized(cap: int) -> bytes:
    return b'{"pad": "' + b"x" * cap + b'"}'


@pytest.fixture(scope="module")
def capped(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The app with imports capped at 1 KiB (their cap is the route's own)."""
    with TestClient(create_app(settings)) as app_client:
        work_dir = tmp_path_factory.mktemp("imports")
        app_client.app.state.import_settings = ImportSettings(  # type: ignore[attr-defined]
            work_dir=work_dir, max_upload_bytes=IMPORT_CAP
        )
        yield app_client


def test_the_table_holds_every_kind_of_write(settings: Settings) -> None:
    methods = {method for method, _ in write_operations(settings)}
    assert {"POST", "PUT", "PATCH", "DELETE"} <= methods
    assert len(write_operations(settings)) > 40


def _cap(settings: Settings, path: str) -> int:
    cap = body_cap(_url(path), settings)
    return IMPORT_CAP if cap is None else cap  # None: the route caps it (imports)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize over the write operations of the app built from default settings."""
    if "operation" in metafunc.fixturenames:
        operations = write_operations(Settings())
        metafunc.parametrize("operation", operations, ids=[f"{m} {p}" for m, p in operations])


def test_a_declared_oversized_body_is_413(
    capped: TestClient, settings: Settings, admin: dict[str, str], operation: tuple[str, str]
) -> None:
    method, path = operation
    body = _oversized(_cap(settings, path))
    response = capped.request(method, _url(path), content=body,
                              headers={**admin, "Content-Type": "application/json"})  # fmt: skip
    assert response.status_code == 413, response.text
    assert "larger than the limit" in response.json()["detail"]


def test_a_streamed_oversized_body_is_cut_off_or_refused_first(
    capped: TestClient, settings: Settings, admin: dict[str, str], operation: tuple[str, str]
) -> None:
    method, path = operation
    body = _oversized(_cap(settings, path))
    chunks = iter([body[i : i + 256 * 1024] for i in range(0, len(body), 256 * 1024)])
    response = capped.request(method, _url(path), content=chunks,
                              headers={**admin, "Content-Type": "application/json"})  # fmt: skip
    assert response.status_code < 500, response.text
    if response.status_code != 413:  # refused for its path or method before the body
        assert response.status_code in (400, 403, 404, 405, 409, 415, 422, 428), response.text
