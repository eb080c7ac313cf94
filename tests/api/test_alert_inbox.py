"""Geofence alerts reach the inbox of each person they concern, and only theirs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from layers.accounts.roles import Role
from layers.accounts.service import Jurisdiction
from layers.features.models import Precinct, Unit
from tests.utils.perimeters import busy_place, create_perimeter
from tests.utils.tracks import east_of
from tests.utils.users import bearer, make_user


def _inbox(client: TestClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = client.get("/api/inbox", params={"limit": 200, **params}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _alerts_of(body: dict[str, Any], perimeter: int) -> dict[int, dict[str, Any]]:
    """Return the messages of the perimeter's alerts by alert id (each alert once)."""
    found: dict[int, dict[str, Any]] = {}
    for message in body["data"]:
        alert = message["alert"]
        if alert is not None and alert["perimeter_id"] == perimeter:
            assert message["record"] is None and alert["id"] not in found
            assert message["reason"] == f"geofence.{alert['kind']}"
            found[alert["id"]] = message
    return found


def test_an_incident_in_a_ring_reaches_those_concerned(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        precinct, centre = busy_place(session)
        far = session.scalars(select(Precinct).where(Precinct.id != precinct.id)
                              .order_by(Precinct.id.desc())).first()  # fmt: skip
        unit = session.scalar(select(Unit.id).where(Unit.precinct_id == precinct.id).limit(1))
        assert far is not None and unit is not None
    planner = bearer(client, make_user(session_factory, Role.PLANNER))
    commander = bearer(client, make_user(session_factory, Role.COMMANDER))
    officer = bearer(client, make_user(session_factory, Role.OFFICER,
                                       Jurisdiction(precinct_code=precinct.code)))  # fmt: skip
    stranger = bearer(client, make_user(session_factory, Role.OFFICER,
                                        Jurisdiction(precinct_code=far.code)))  # fmt: skip
    unit_user = bearer(client, make_user(session_factory, Role.UNIT, Jurisdiction(unit_id=unit)))
    now = datetime.now(UTC)
    core = {"kind": "core", "buffer_m": 400,
            "around": {"type": "Point", "coordinates": [centre.x, centre.y]}}  # fmt: skip
    perimeter = create_perimeter(client, planner, {
        "name": "灯会安保", "starts_at": (now - timedelta(hours=1)).isoformat(),
        "ends_at": (now + timedelta(hours=3)).isoformat(), "rings": [core]})["id"]  # fmt: skip
    unread_before = _inbox(client, commander, alerts="true")["unread"]

    made = client.post("/api/layers/incidents/features", headers=commander, json={
        "geometry": {"type": "Point", "coordinates": list(east_of(centre, 100))},
        "properties": {"name": "灯会现场斗殴", "category": "fight",
                       "occurred_at": now.isoformat()}})  # fmt: skip
    assert made.status_code == 201, made.text
    listed = client.get("/api/alerts", params={"perimeter_id": perimeter}, headers=commander)
    [alert] = listed.json()["data"]
    assert (alert["kind"], alert["feature_id"]) == ("enter", made.json()["id"])

    for concerned in (commander, officer, planner):  # in the city, the precinct, its author
        messages = _alerts_of(_inbox(client, concerned, alerts="true"), perimeter)
        assert list(messages) == [alert["id"]]
        assert messages[alert["id"]]["alert"]["feature_name"] == "灯会现场斗殴"
    assert _alerts_of(_inbox(client, stranger, alerts="true"), perimeter) == {}
    assert _alerts_of(_inbox(client, unit_user, alerts="true"), perimeter) == {}
    # a client that does not ask for alerts reads records only, as before
    plain = _inbox(client, commander)
    assert all(m["alert"] is None and m["record"] is not None for m in plain["data"])

    counted = _inbox(client, commander, alerts="true")
    # other tests' rings may hold the same busy place: each of them alerts the city too
    incident = made.json()["id"]
    raised = [m for m in counted["data"] if (m["alert"] or {}).get("feature_id") == incident]
    assert counted["unread"] == unread_before + len(raised) and len(raised) >= 1
    message = _alerts_of(counted, perimeter)[alert["id"]]
    read = client.post(f"/api/inbox/{message['id']}/read", headers=commander)
    assert read.status_code == 200 and read.json()["alert"]["id"] == alert["id"]
    assert read.json()["read_at"] is not None
    assert _inbox(client, commander, alerts="true")["unread"] == counted["unread"] - 1
    # the officer's copy is his own to read
    assert (
        _alerts_of(_inbox(client, officer, alerts="true"), perimeter)[alert["id"]]["read_at"]
        is None
    )
