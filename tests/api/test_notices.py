"""Notices to units and officers, by name or by a spatial and attribute selection; inboxes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from geoalchemy2.shape import to_shape
from shapely.geometry import mapping
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from layers.accounts.models import User
from layers.accounts.roles import Role
from layers.accounts.service import Jurisdiction
from layers.features.models import Unit
from layers.records.models import RecordLink
from tests.utils.places import precincts_with_units
from tests.utils.users import bearer, make_user


class Cast:
    """A commander; a precinct, its officer and two of its units with their users."""

    def __init__(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        with factory() as session:
            self.precinct = precincts_with_units(session)[3]
            units = session.scalars(
                select(Unit).where(Unit.precinct_id == self.precinct.id).order_by(Unit.id)
            ).all()
            self.unit_a, self.unit_b = units[0].id, units[1].id
            self.outline = mapping(to_shape(self.precinct.geom))
        self.commander = bearer(client, make_user(factory, Role.COMMANDER))
        officer = make_user(factory, Role.OFFICER, Jurisdiction(precinct_code=self.precinct.code))
        self.officer = bearer(client, officer)
        with factory() as session:
            self.officer_id = session.scalar(select(User.id).where(User.username == officer))
        self.user_a = bearer(
            client, make_user(factory, Role.UNIT, Jurisdiction(unit_id=self.unit_a))
        )
        self.user_b = bearer(
            client, make_user(factory, Role.UNIT, Jurisdiction(unit_id=self.unit_b))
        )


@pytest.fixture(scope="module")
def cast(client: TestClient, session_factory: sessionmaker[Session]) -> Cast:
    """The people of this module."""
    return Cast(client, session_factory)


def _inbox(client: TestClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = client.get("/api/inbox", params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_notice_to_every_hotel_in_a_polygon_reaches_exactly_those_units(
    client: TestClient, cast: Cast, session_factory: sessionmaker[Session]
) -> None:
    outline = json.dumps(cast.outline)
    with session_factory() as session:
        inside = func.ST_Intersects(
            Unit.geom, func.ST_SetSRID(func.ST_GeomFromGeoJSON(outline), 4326)
        )
        expected = set(session.scalars(select(Unit.id).where(Unit.category == "hotel", inside)))
    body = {
        "title": "节前安全检查通知",
        "body": "请各酒店于本周五前完成自查。",
        "selection": {"within": cast.outline, "filters": {"category": "hotel"}},
    }
    response = client.post("/api/notices", json=body, headers=cast.commander)
    assert response.status_code == 201, response.text
    notice = response.json()
    assert notice["details"]["recipients"] == len(expected) > 0
    receipts = client.get(f"/api/notices/{notice['id']}/receipts", headers=cast.commander).json()
    assert receipts == {"sent": len(expected), "read": 0}
    with session_factory() as session:
        linked = set(
            session.scalars(
                select(RecordLink.feature_id).where(
                    RecordLink.record_id == notice["id"], RecordLink.layer == "units"
                )
            )
        )
    assert linked == expected


def test_a_unit_reads_its_notice_and_the_sender_sees_the_receipt(
    client: TestClient, cast: Cast
) -> None:
    body = {
        "title": "消防演练通知",
        "body": "周三下午三点消防演练。",
        "units": [cast.unit_a],
        "users": [cast.officer_id],
    }
    notice = client.post("/api/notices", json=body, headers=cast.commander).json()
    before = _inbox(client, cast.user_a, unread="true")
    [message] = [m for m in before["data"] if m["record"]["id"] == notice["id"]]
    assert message["reason"] == "notice.sent" and message["read_at"] is None
    assert message["record"]["details"]["body"] == "周三下午三点消防演练。"
    # the other unit was not sent it, and may not read it
    assert all(m["record"]["id"] != notice["id"] for m in _inbox(client, cast.user_b)["data"])
    assert client.get(f"/api/notices/{notice['id']}", headers=cast.user_b).status_code == 404
    assert client.get(f"/api/notices/{notice['id']}", headers=cast.user_a).status_code == 200
    read = client.post(f"/api/inbox/{message['id']}/read", headers=cast.user_a)
    assert read.status_code == 200 and read.json()["read_at"] is not None
    after = _inbox(client, cast.user_a)
    assert after["unread"] == before["unread"] - 1
    receipts = client.get(f"/api/notices/{notice['id']}/receipts", headers=cast.commander).json()
    assert receipts == {"sent": 2, "read": 1}
    assert client.post(f"/api/inbox/{message['id']}/read", headers=cast.user_b).status_code == 404
    assert (
        client.get(f"/api/notices/{notice['id']}/receipts", headers=cast.user_a).status_code == 403
    )


def test_an_officer_notices_only_units_of_his_precinct(
    client: TestClient, cast: Cast, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        elsewhere = session.scalar(select(Unit.id).where(Unit.precinct_id != cast.precinct.id))
        mine = session.scalar(
            select(func.count()).select_from(Unit).where(Unit.precinct_id == cast.precinct.id)
        )
    named = {"title": "通知", "body": "内容", "units": [elsewhere]}
    assert client.post("/api/notices", json=named, headers=cast.officer).status_code == 404
    everyone = {"title": "通知", "body": "内容", "selection": {"filters": {}}}
    response = client.post("/api/notices", json=everyone, headers=cast.officer)
    assert response.status_code == 201 and response.json()["details"]["recipients"] == mine
    nobody = {"title": "通知", "body": "内容", "selection": {"filters": {"category": "nope"}}}
    assert client.post("/api/notices", json=nobody, headers=cast.officer).status_code == 422
    assert (
        client.post("/api/notices", json={**named, "units": []}, headers=cast.officer).status_code
        == 422
    )


def test_a_task_reaches_its_assignees_inbox_and_its_submission_the_creator(
    client: TestClient, cast: Cast
) -> None:
    body = {
        "title": "巡查任务",
        "topic": "internal_security",
        "features": [{"layer": "units", "id": cast.unit_a}],
        "details": {"assignees": [{"type": "user", "id": cast.officer_id}]},
    }
    task = client.post("/api/tasks", json=body, headers=cast.commander).json()
    assert all(m["record"]["id"] != task["id"] for m in _inbox(client, cast.officer)["data"])
    url = f"/api/tasks/{task['id']}/transitions"
    for action, headers in (
        ("assign", cast.commander),
        ("accept", cast.officer),
        ("start", cast.officer),
    ):
        task = client.post(
            url, json={"action": action}, headers={**headers, "If-Match": f'"{task["version"]}"'}
        ).json()
    reasons = [
        m["reason"] for m in _inbox(client, cast.officer)["data"] if m["record"]["id"] == task["id"]
    ]
    assert reasons == ["task.assign"]
