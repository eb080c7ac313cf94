"""Create users and log them in for API tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pyotp
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from layers.accounts.roles import Role
from layers.accounts.scope import SYSTEM
from layers.accounts.service import Jurisdiction, create_user
from layers.settings import SecuritySettings
from tests.utils.sessions import keyed

PASSWORD = "Correct-horse-battery-7"  # meets the password policy


def make_user(
    factory: sessionmaker[Session],
    role: Role,
    where: Jurisdiction | None = None,
    *,
    password: str = PASSWORD,
    initial_password: bool = False,
) -> str:
    """Create a user with a unique name; return the name.

    The password is the user's own unless ``initial_password``: then, as for a user an
    administrator creates, the first login must change it.
    """
    name = f"{role.value}-{uuid.uuid4().hex[:8]}"
    with keyed(factory)() as session, session.begin():
        create_user(
            session=session, username=name, password=password, role=role,
            where=where or Jurisdiction(), actor=SYSTEM, policy=SecuritySettings(),
            must_change_password=initial_password,
        )  # fmt: skip
    return name


def log_in(
    client: TestClient, username: str, password: str = PASSWORD, totp_code: str | None = None
) -> str:
    """Log in and return the new session's token (the client keeps no cookie)."""
    body = {"username": username, "password": password}
    if totp_code is not None:
        body["totp_code"] = totp_code
    response = client.post("/api/auth/login", json=body)
    assert response.status_code == 200, response.text
    client.cookies.clear()  # each test states its credentials explicitly
    token: str = response.json()["access_token"]
    return token


def bearer(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    """Log in and return the Authorization header of the new session."""
    return {"Authorization": f"Bearer {log_in(client, username, password)}"}


def totp_code(secret: str, steps_ahead: int = 0) -> str:
    """Return the code an authenticator app with ``secret`` shows now (or steps later)."""
    return pyotp.TOTP(secret).at(datetime.now(UTC), counter_offset=steps_ahead)


def enrol_totp(client: TestClient, headers: dict[str, str]) -> str:
    """Enrol and confirm a second factor for the session's user over HTTP; return the secret."""
    enrolment = client.post("/api/auth/totp/enroll", headers=headers)
    assert enrolment.status_code == 200, enrolment.text
    secret: str = enrolment.json()["secret"]
    confirmed = client.post(
        "/api/auth/totp/confirm", json={"code": totp_code(secret)}, headers=headers
    )
    assert confirmed.status_code == 204, confirmed.text
    return secret
