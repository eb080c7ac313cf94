"""Security headers on every answer, HSTS and the Secure cookie only over TLS (#14.5)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from layers.accounts.roles import Role
from layers.settings import SecuritySettings, Settings
from tests.utils.users import PASSWORD, make_user

PUBLIC_URL = "https://warroom.example"


def assert_security_headers(response: object) -> None:
    """Assert the headers every answer carries, whatever its status."""
    headers = response.headers  # type: ignore[attr-defined]
    policy = headers["content-security-policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "object-src 'none'",
                      "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'",
                      "connect-src 'self'"):  # fmt: skip
        assert directive in policy.split("; "), policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["x-frame-options"] == "DENY"
    assert headers["cross-origin-opener-policy"] == "same-origin"
    assert "geolocation=(self)" in headers["permissions-policy"]


@pytest.mark.parametrize(
    ("method", "path", "status", "extra"),
    [
        ("GET", "/api/health", 200, {}),
        ("GET", "/api/layers", 401, {}),
        ("GET", "/api/no-such-route", 404, {}),
        ("GET", "/tiles/units/0/0/0.mvt", 401, {}),
        ("GET", "/openapi.json", 200, {}),
        ("POST", "/api/auth/login", 422, {}),
        ("GET", "/api/health", 400, {"Host": "evil.example"}),
    ],
)
def test_every_answer_carries_the_security_headers(
    client: TestClient, method: str, path: str, status: int, extra: dict[str, str]
) -> None:
    response = client.request(method, path, headers=extra)
    assert response.status_code == status, response.text
    assert_security_headers(response)
    assert "strict-transport-security" not in response.headers  # plain http


def test_api_answers_are_not_stored_by_caches(client: TestClient, admin: dict[str, str]) -> None:
    response = client.get("/api/layers", headers=admin)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"


def test_the_session_cookie_is_httponly_and_strict_but_not_secure_over_http(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    name = make_user(session_factory, Role.PLANNER)
    response = client.post("/api/auth/login", json={"username": name, "password": PASSWORD})
    client.cookies.clear()
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Secure" not in cookie


@pytest.fixture(scope="module")
def on_tls(settings: Settings, city: None) -> Iterator[TestClient]:
    """The app as reached through a TLS proxy at an https public URL."""
    tls = Settings(
        database=settings.database, crypto=settings.crypto, limits=settings.limits,
        security=SecuritySettings(session_cache_seconds=0), public_url=PUBLIC_URL,
        trusted_hosts=["testserver"],
    )  # fmt: skip
    with TestClient(create_app(tls)) as app_client:
        yield app_client


def test_over_tls_answers_carry_hsts_and_the_cookie_is_secure(
    on_tls: TestClient, session_factory: sessionmaker[Session]
) -> None:
    health = on_tls.get("/api/health")
    assert_security_headers(health)
    assert health.headers["strict-transport-security"] == "max-age=31536000"
    name = make_user(session_factory, Role.PLANNER)
    response = on_tls.post("/api/auth/login", json={"username": name, "password": PASSWORD})
    on_tls.cookies.clear()
    assert response.status_code == 200, response.text
    cookie = response.headers["set-cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie


def test_a_request_that_came_over_tls_gets_hsts_without_a_public_url(client: TestClient) -> None:
    response = client.get("https://testserver/api/health")
    assert response.headers["strict-transport-security"] == "max-age=31536000"
