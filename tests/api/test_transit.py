"""A transit company's users work on what it operates, and on nothing of anyone else's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from layers.accounts.roles import Role
from layers.accounts.service import Jurisdiction
from layers.demo.operators import METRO, MTR
from tests.utils.users import bearer, make_user

STARTS = datetime.now(UTC) + timedelta(days=2)
OPERATED = text(
    "SELECT o.layer, o.feature_id FROM feature_operators o JOIN units u ON u.id = o.unit_id"
    " WHERE u.name = :name"
)


def _user_of(client: TestClient, factory: sessionmaker[Session], name: str) -> dict[str, str]:
    """Log in a new user of the demo unit called ``name``."""
    with factory() as session:
        unit_id = session.scalar(text("SELECT id FROM units WHERE name = :n"), {"n": name})
    return bearer(client, make_user(factory, Role.UNIT, Jurisdiction(unit_id=unit_id)))


def _operated(factory: sessionmaker[Session], name: str) -> set[tuple[str, int]]:
    with factory() as session:
        return {(layer, i) for layer, i in session.execute(OPERATED, {"name": name})}


def _my_units(client: TestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    """Every page of the caller's units, following ``next``."""
    units: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 7}
    while True:
        response = client.get("/api/transit/my-units", params=params, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        units += page["data"]
        if page["next"] is None:
            return units
        params["cursor"] = page["next"]


def _station(factory: sessionmaker[Session], *, line_4: bool) -> int:
    """A rail station on line 4 only, or on no line 4 at all."""
    where = "lines = ARRAY['4号线']" if line_4 else "NOT '4号线' = ANY(lines)"
    with factory() as session:
        station = session.scalar(text(f"SELECT id FROM rail_stations WHERE {where} LIMIT 1"))
    assert station is not None
    return int(station)


def _post(client: TestClient, url: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    return client.post(url, json=body, headers=headers)


def _support(station: int) -> dict[str, Any]:
    return {
        "title": "早高峰大客流", "topic": "public_transport",
        "features": [{"layer": "rail_stations", "id": station}],
        "details": {"reason": "演唱会散场客流", "expected_size": 20000, "officers_wanted": 8},
        "starts_at": STARTS.isoformat(), "ends_at": (STARTS + timedelta(hours=4)).isoformat(),
    }  # fmt: skip


def _hazard(station: int) -> dict[str, Any]:
    return {
        "title": "站台屏蔽门故障", "topic": "public_transport",
        "features": [{"layer": "rail_stations", "id": station}],
        "details": {"level": 2, "category": "structural"},
    }  # fmt: skip


def _act(client: TestClient, url: str, record: Any, action: str, headers: dict[str, str]) -> Any:
    response = client.post(f"{url}/{record['id']}/transitions", json={"action": action},
                           headers={**headers, "If-Match": f'"{record["version"]}"'})  # fmt: skip
    assert response.status_code == 200, response.text
    return response.json()


def _timeline(client: TestClient, station: int, headers: dict[str, str]) -> Any:
    return client.get(f"/api/layers/rail_stations/features/{station}/records", headers=headers)


def test_a_metro_company_asks_for_police_at_its_station_and_follows_the_task(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    mtr = _user_of(client, session_factory, MTR.name)
    commander = bearer(client, make_user(session_factory, Role.COMMANDER))
    units = _my_units(client, mtr)
    assert {(u["layer"], u["id"]) for u in units} == _operated(session_factory, MTR.name)
    assert {u["layer"] for u in units} == {"rail_stations"}
    assert all("4号线" in u["properties"]["lines"] for u in units)
    ours, theirs = _station(session_factory, line_4=True), _station(session_factory, line_4=False)
    before = next(u["records"] for u in units if u["id"] == ours)

    asked = _post(client, "/api/police-support", _support(ours), mtr)
    assert asked.status_code == 201, asked.text
    approved = _act(client, "/api/police-support", asked.json(), "approve", commander)
    task_url = f"/api/tasks/{approved['details']['task_id']}"
    task = client.get(task_url, headers=mtr)
    assert task.status_code == 200, task.text
    assert task.json()["state"] == "draft"
    assert task.json()["features"] == [{"layer": "rail_stations", "id": ours}]
    _act(client, "/api/tasks", task.json(), "assign", commander)
    followed = client.get(task_url, headers=mtr).json()
    assert followed["state"] == "assigned"
    assert [step["action"] for step in followed["history"]] == ["create", "assign"]
    timeline = _timeline(client, ours, mtr)
    assert timeline.status_code == 200, timeline.text
    kinds = [r["kind"] for r in timeline.json()["data"][:2]]
    assert sorted(kinds) == ["police_support", "task"]
    after = next(u for u in _my_units(client, mtr) if u["id"] == ours)
    assert after["records"] == before + 2

    # another company's station: its records, its timeline and asking there are 404
    metro = _user_of(client, session_factory, METRO.name)
    found = _post(client, "/api/hazards", _hazard(theirs), commander)
    assert found.status_code == 201, found.text
    assert client.get(f"/api/hazards/{found.json()['id']}", headers=metro).status_code == 200
    assert client.get(f"/api/hazards/{found.json()['id']}", headers=mtr).status_code == 404
    assert _timeline(client, theirs, mtr).status_code == 404
    assert _post(client, "/api/police-support", _support(theirs), mtr).status_code == 404
    assert _post(client, "/api/hazards", _hazard(theirs), mtr).status_code == 404
    ids = {u["id"] for u in _my_units(client, metro)}
    assert theirs in ids and ours not in ids


def test_a_bus_fleet_sees_its_stops_and_a_plain_unit_stays_alone(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        fleet, plain = session.execute(text(
            "SELECT (SELECT u.name FROM units u JOIN feature_operators o ON o.unit_id = u.id"
            "        WHERE o.layer = 'bus_stations' LIMIT 1),"
            "       (SELECT u.id FROM units u WHERE u.category = 'school' AND NOT EXISTS"
            "        (SELECT 1 FROM feature_operators o WHERE o.unit_id = u.id) LIMIT 1)"
        )).one()  # fmt: skip
    stops = _my_units(client, _user_of(client, session_factory, fleet))
    assert {(u["layer"], u["id"]) for u in stops} == _operated(session_factory, fleet) != set()

    school = bearer(client, make_user(session_factory, Role.UNIT, Jurisdiction(unit_id=plain)))
    commander = bearer(client, make_user(session_factory, Role.COMMANDER))
    station = _station(session_factory, line_4=True)
    found = _post(client, "/api/hazards", _hazard(station), commander)
    assert found.status_code == 201, found.text
    assert _my_units(client, school) == []
    assert client.get(f"/api/hazards/{found.json()['id']}", headers=school).status_code == 404
    assert _timeline(client, station, school).status_code == 404
    assert _post(client, "/api/police-support", _support(station), school).status_code == 404
    own = _post(client, "/api/hazards", {**_hazard(station), "topic": "internal_security",
                                         "features": [{"layer": "units", "id": plain}]},
                commander)  # fmt: skip
    assert own.status_code == 201, own.text
    assert client.get(f"/api/hazards/{own.json()['id']}", headers=school).status_code == 200
    assert client.get("/api/transit/my-units", params={"cursor": "x"},
                      headers=school).status_code == 422  # fmt: skip
