"""Instants with any UTC offset Python reads are stored or refused, never a 500 (#14.6).

PostgreSQL takes offsets up to ±15:59; ISO 8601 lets a caller write -20:49. Found by the
schema fuzz (tests/api/test_schema_fuzz.py) on ``/api/records/active?at=``.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from layers.accounts.roles import Role
from tests.utils.users import bearer, make_user

FAR_OFFSET = "2026-04-25T16:13:53-20:49"
PAST_THE_CALENDAR = "9999-12-31T23:59:59-20:00"  # in UTC it is the year 10000


@pytest.mark.parametrize(
    ("path", "name"),
    [("/api/records/active", "at"), ("/api/stats/records", "since"),
     ("/api/stats/records", "until")],
)  # fmt: skip
def test_an_offset_postgresql_refuses_is_read_as_the_same_instant(
    client: TestClient, admin: dict[str, str], path: str, name: str
) -> None:
    response = client.get(path, params={name: FAR_OFFSET}, headers=admin)
    assert response.status_code == 200, response.text
    beyond = client.get(path, params={name: PAST_THE_CALENDAR}, headers=admin)
    assert beyond.status_code == 422, beyond.text
    assert "outside the calendar" in beyond.json()["detail"]


def test_a_record_due_at_a_far_offset_is_stored_at_its_instant(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    commander = bearer(client, make_user(session_factory, Role.COMMANDER))
    unit = client.get("/api/layers/units/features", params={"limit": 1}, headers=commander).json()
    body = {"title": "远偏移时间", "topic": "internal_security", "due_at": FAR_OFFSET,
            "features": [{"layer": "units", "id": unit["features"][0]["id"]}]}  # fmt: skip
    created = client.post("/api/tasks", json=body, headers=commander)
    assert created.status_code == 201, created.text
    due = datetime.fromisoformat(created.json()["due_at"])
    assert due == datetime(2026, 4, 26, 13, 2, 53, tzinfo=UTC)  # 16:13:53 plus 20:49
    body["due_at"] = PAST_THE_CALENDAR
    refused = client.post("/api/tasks", json=body, headers=commander)
    assert refused.status_code == 422 and "outside the calendar" in refused.json()["detail"]
