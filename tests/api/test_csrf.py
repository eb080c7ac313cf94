"""Writes authenticated by the session cookie come from our own pages only (#14.5).

A browser sends the cookie with any site's request; the Origin (else Sec-Fetch-Site,
else Referer) says whose page made it. Bearer requests are exempt: no other site's page
can set that header.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from layers.accounts.roles import Role
from layers.settings import SecuritySettings, Settings
from tests.utils.users import PASSWORD, make_user

OURS = "http://testserver"
QUERY = {"layers": ["units"], "point": [116.397, 39.909], "radius_m": 500, "limit": 1}


@pytest.fixture
def cookie(client: TestClient, session_factory: sessionmaker[Session]) -> dict[str, str]:
    """The Cookie header of a fresh planner session (the client keeps no cookie)."""
    name = make_user(session_factory, Role.PLANNER)
    response = client.post("/api/auth/login", json={"username": name, "password": PASSWORD})
    token = response.cookies["warroom_session"]
    client.cookies.clear()
    return {"Cookie": f"warroom_session={token}"}


def _alive(client: TestClient, cookie: dict[str, str]) -> bool:
    return client.get("/api/auth/me", headers=cookie).status_code == 200


@pytest.mark.parametrize(
    ("provenance", "named"),
    [
        ({"Origin": "http://evil.example"}, "Origin 'http://evil.example'"),
        ({"Origin": "null"}, "Origin 'null'"),  # a sandboxed frame or a data: page
        ({"Origin": "https://testserver"}, "Origin 'https://testserver'"),  # another scheme
        ({"Origin": "http://testserver:8080"}, "Origin 'http://testserver:8080'"),
        ({"Sec-Fetch-Site": "cross-site"}, "Sec-Fetch-Site 'cross-site'"),
        ({"Sec-Fetch-Site": "same-site"}, "Sec-Fetch-Site 'same-site'"),
        ({"Referer": "http://evil.example/page"}, "its Referer"),
        ({}, "no Origin"),
    ],
)
def test_a_cookie_write_from_elsewhere_is_refused_and_changes_nothing(
    client: TestClient, cookie: dict[str, str], provenance: dict[str, str], named: str
) -> None:
    response = client.post("/api/auth/logout", headers={**cookie, **provenance})
    assert response.status_code == 403, response.text
    answer = response.json()
    assert answer["code"] == "CrossSiteRequest"
    assert named in answer["detail"] and "cross-site request forgery" in answer["detail"]
    assert _alive(client, cookie)  # the session was not ended


@pytest.mark.parametrize(
    "provenance",
    [
        {"Origin": OURS},
        {"Origin": "http://TESTSERVER:80"},  # the same origin, written otherwise
        {"Sec-Fetch-Site": "same-origin"},
        {"Referer": f"{OURS}/ui/"},
        {"Origin": OURS, "Sec-Fetch-Site": "same-origin", "Referer": f"{OURS}/ui/"},
    ],
)
def test_a_cookie_write_from_our_own_page_goes_through(
    client: TestClient, cookie: dict[str, str], provenance: dict[str, str]
) -> None:
    query = client.post("/api/spatial/query", json=QUERY, headers={**cookie, **provenance})
    assert query.status_code == 200, query.text
    assert client.post("/api/auth/logout", headers={**cookie, **provenance}).status_code == 204
    assert not _alive(client, cookie)


def test_a_bearer_write_needs_no_origin_whatever_it_says(
    client: TestClient, admin: dict[str, str]
) -> None:
    for provenance in ({}, {"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        response = client.post("/api/spatial/query", json=QUERY, headers={**admin, **provenance})
        assert response.status_code == 200, response.text


def test_reads_with_the_cookie_are_not_checked(client: TestClient, cookie: dict[str, str]) -> None:
    response = client.get("/api/layers", headers={**cookie, "Origin": "http://evil.example"})
    assert response.status_code == 200


def test_login_from_another_sites_page_is_refused_but_a_script_may_log_in(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    body = {"username": make_user(session_factory, Role.PLANNER), "password": PASSWORD}
    forged = client.post("/api/auth/login", json=body, headers={"Origin": "http://evil.example"})
    assert forged.status_code == 403 and forged.json()["code"] == "CrossSiteRequest"
    assert "set-cookie" not in forged.headers
    scripted = client.post("/api/auth/login", json=body)  # no cookie, no Origin: not a browser
    client.cookies.clear()
    assert scripted.status_code == 200, scripted.text


@pytest.fixture(scope="module")
def behind_proxy(settings: Settings, city: None) -> Iterator[TestClient]:
    """The app behind a TLS proxy: users reach it at https://warroom.example."""
    proxied = Settings(
        database=settings.database, crypto=settings.crypto, limits=settings.limits,
        security=SecuritySettings(session_cache_seconds=0), trusted_hosts=["testserver"],
        public_url="https://warroom.example",
    )  # fmt: skip
    with TestClient(create_app(proxied)) as app_client:
        yield app_client


def test_behind_a_proxy_the_public_origin_is_ours(
    behind_proxy: TestClient, session_factory: sessionmaker[Session]
) -> None:
    name = make_user(session_factory, Role.PLANNER)
    login = behind_proxy.post("/api/auth/login", json={"username": name, "password": PASSWORD},
                              headers={"Origin": "https://warroom.example"})  # fmt: skip
    assert login.status_code == 200, login.text
    behind_proxy.cookies.clear()
    cookie = {"Cookie": f"warroom_session={login.json()['access_token']}"}
    forged = behind_proxy.post("/api/auth/logout",
                               headers={**cookie, "Origin": "https://evil.example"})  # fmt: skip
    assert forged.status_code == 403
    ours = behind_proxy.post("/api/auth/logout",
                             headers={**cookie, "Origin": "https://warroom.example"})  # fmt: skip
    assert ours.status_code == 204
