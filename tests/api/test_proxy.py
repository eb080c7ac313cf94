"""Behind a TLS proxy: X-Forwarded-* believed from the trusted proxies alone (#14.5).

The app is served by uvicorn as ``warroom serve`` runs it (``api.links.proxy_options``);
a request says it came over https from 203.0.113.7 through the proxy at 127.0.0.1.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from api.links import proxy_options
from layers.accounts.models import AuthSession, User
from layers.accounts.roles import Role
from layers.settings import Settings
from tests.utils.users import PASSWORD, make_user

FORWARDED = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}


@contextmanager
def served(settings: Settings) -> Iterator[str]:
    """Serve the app with uvicorn on a free port; yield its base URL."""
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                            log_level="warning", **proxy_options(settings))  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive(), "the app did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def _login_from(base: str, factory: sessionmaker[Session]) -> tuple[httpx.Response, str]:
    """Log in through the 'proxy'; return the answer and the session's recorded client."""
    name = make_user(factory, Role.PLANNER)
    answer = httpx.post(f"{base}/api/auth/login", headers=FORWARDED,
                        json={"username": name, "password": PASSWORD})  # fmt: skip
    assert answer.status_code == 200, answer.text
    with factory() as session:
        client = session.scalars(select(AuthSession.client).join(User)
                                 .where(User.username == name)).one()  # fmt: skip
    return answer, client or ""


def test_a_trusted_proxy_gives_the_clients_address_and_https(
    settings: Settings, session_factory: sessionmaker[Session], city: None
) -> None:
    proxied = settings.model_copy(update={"trusted_proxies": ["127.0.0.1"]})
    with served(proxied) as base:
        answer, client = _login_from(base, session_factory)
    assert client.startswith("203.0.113.7 ")  # the audit and the lockouts see the client
    assert answer.headers["strict-transport-security"] == "max-age=31536000"
    assert "Secure" not in answer.headers["set-cookie"]  # Secure comes from the public URL


def test_without_trusted_proxies_forwarded_headers_are_ignored(
    settings: Settings, session_factory: sessionmaker[Session], city: None
) -> None:
    with served(settings) as base:
        answer, client = _login_from(base, session_factory)
    assert client.startswith("127.0.0.1 ")
    assert "strict-transport-security" not in answer.headers
