"""An unexpected error is a plain 500 with a reference, never a stack trace (#14.5)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from api.app import create_app
from layers.settings import Settings

SECRET = "password=hunter2 at /srv/warroom/layers/secret.py"
broken = APIRouter()


@broken.get("/api/test-broken")
def read_broken() -> dict[str, str]:
    """Fail as a bug would."""
    raise RuntimeError(SECRET)


@broken.post("/api/test-broken-async")
async def create_broken() -> dict[str, str]:
    """Fail in an async route as a bug would."""
    raise KeyError(SECRET)


@broken.get("/api/test-broken-dependency")
def read_broken_dependency(value: int = 0) -> dict[str, float]:
    """Divide by zero."""
    return {"value": 1 / value}


@pytest.fixture(scope="module")
def buggy(settings: Settings) -> Iterator[TestClient]:
    """The app with routes that raise."""
    app = create_app(settings)
    app.include_router(broken)
    with TestClient(app) as app_client:
        yield app_client


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/test-broken"), ("POST", "/api/test-broken-async"),
     ("GET", "/api/test-broken-dependency")],
)  # fmt: skip
def test_an_unexpected_error_is_a_generic_500_with_the_request_id(
    buggy: TestClient, admin: dict[str, str], method: str, path: str
) -> None:
    response = buggy.request(method, path, headers=admin)
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    answer = response.json()
    reference = response.headers["x-request-id"]
    assert answer == {"detail": f"internal error, reference {reference}",
                      "code": "InternalError", "reference": reference}  # fmt: skip
    for leak in ("Traceback", "hunter2", "secret.py", "Error", 'File "', "ZeroDivision"):
        assert leak not in response.text.replace("InternalError", "")
    assert "content-security-policy" in response.headers


def test_a_callers_request_id_is_the_reference(buggy: TestClient, admin: dict[str, str]) -> None:
    response = buggy.get("/api/test-broken", headers={**admin, "X-Request-ID": "proxy-42"})
    assert response.json()["reference"] == "proxy-42"
