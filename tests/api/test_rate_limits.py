"""Requests a minute per session and per address: a 429 with Retry-After past them (#14.5).

The limits are a minute's allowance refilling over the minute, so a handful a minute
leaves no room for a slow machine to refill a bucket within the test.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from layers.accounts.roles import Role
from layers.settings import LimitSettings, Settings
from tests.utils.users import bearer, make_user


@contextmanager
def _limited(settings: Settings, **limits: int) -> Iterator[TestClient]:
    tight = settings.model_copy(update={"limits": LimitSettings(**limits)})
    with TestClient(create_app(tight)) as app_client:
        yield app_client


def test_a_session_past_its_requests_a_minute_waits_and_others_do_not(
    settings: Settings, session_factory: sessionmaker[Session], city: None
) -> None:
    with _limited(
        settings, session_requests_per_minute=2, address_requests_per_minute=0
    ) as limited:
        first = bearer(limited, make_user(session_factory, Role.PLANNER))
        assert [limited.get("/api/auth/me", headers=first).status_code for _ in range(2)] == [
            200, 200,
        ]  # fmt: skip
        refused = limited.get("/api/auth/me", headers=first)
        assert refused.status_code == 429, refused.text
        assert refused.headers["Retry-After"] == "30"  # one request in half a minute
        assert refused.json()["code"] == "TooManyRequests"
        assert "2 requests a minute in one session" in refused.json()["detail"]
        second = bearer(limited, make_user(session_factory, Role.PLANNER))
        assert limited.get("/api/auth/me", headers=second).status_code == 200


def test_made_up_tokens_do_not_escape_the_address_limit(settings: Settings, city: None) -> None:
    with _limited(
        settings, session_requests_per_minute=1, address_requests_per_minute=3
    ) as limited:
        answers = [limited.get("/api/auth/me", headers={"Authorization": f"Bearer {uuid.uuid4()}"})
                   for _ in range(4)]  # fmt: skip
        assert [answer.status_code for answer in answers] == [401, 401, 401, 429]
        assert answers[-1].headers["Retry-After"] == "20"
        assert "3 requests a minute from one address" in answers[-1].json()["detail"]
        assert limited.get("/api/health").status_code == 429  # the address, whatever the route
