"""Fixtures of the HTTP tests: an admin's credentials per module."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from layers.accounts.roles import Role
from tests.utils.users import bearer, make_user


@pytest.fixture(scope="module")
def admin(client: TestClient, session_factory: sessionmaker[Session]) -> dict[str, str]:
    """Authorization header of an admin of the module's own."""
    return bearer(client, make_user(session_factory, Role.ADMIN))
