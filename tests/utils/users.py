"""Create users and log them in for API tests."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from layers.accounts.roles import Role
from layers.accounts.scope import SYSTEM
from layers.accounts.service import Jurisdiction, create_user
from layers.settings import SecuritySettings

PASSWORD = "correct-horse-battery"


def make_user(factory: sessionmaker[Session], role: Role, where: Jurisdiction | None = None) -> str:
    """Create a user with a unique name and the test password; return the name."""
    name = f"{role.value}-{uuid.uuid4().hex[:8]}"
    with factory() as session, session.begin():
        create_user(
            session=session, username=name, password=PASSWORD, role=role,
            where=where or Jurisdiction(), actor=SYSTEM, policy=SecuritySettings(),
        )  # fmt: skip
    return name


def bearer(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    """Log in and return the Authorization header of the new session."""
    response = client.post("/api/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    client.cookies.clear()  # each test states its credentials explicitly
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
