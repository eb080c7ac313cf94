"""The hazard ledger: a hazard's life, and the risk its feature carries meanwhile."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from layers.accounts.roles import Role
from layers.accounts.service import Jurisdiction
from layers.features.models import Unit
from tests.utils.users import bearer, make_user


def _hazard(unit_id: int, level: int, **details: Any) -> dict[str, Any]:
    return {
        "title": f"{level}级隐患",
        "topic": "internal_security",
        "features": [{"layer": "units", "id": unit_id}],
        "due_at": "2026-12-31T18:00:00+08:00",
        "details": {"level": level, "category": "fire", **details},
    }


def _move(client: TestClient, hazard: dict[str, Any], action: str, headers: dict[str, str]) -> Any:
    response = client.post(
        f"/api/hazards/{hazard['id']}/transitions", json={"action": action},
        headers={**headers, "If-Match": f'"{hazard["version"]}"'},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    return response.json()


def _risk(client: TestClient, unit_id: int, headers: dict[str, str]) -> dict[str, int]:
    page = client.get(f"/api/layers/units/features/{unit_id}/records", headers=headers)
    assert page.status_code == 200, page.text
    risk: dict[str, int] = page.json()["risk"]
    return risk


def _sql_risk(factory: sessionmaker[Session], unit_id: int) -> tuple[int, int]:
    """The risk counted straight from the records, as the test's ground truth."""
    with factory() as session:
        row = session.execute(text(
            "SELECT count(*), coalesce(max((r.details->>'level')::int), 0) FROM records r"
            " JOIN record_links l ON l.record_id = r.id AND l.layer = 'units'"
            " WHERE l.feature_id = :id AND r.kind = 'hazard' AND r.state <> 'verified'"
        ), {"id": unit_id}).one()  # fmt: skip
    return int(row[0]), int(row[1])


def test_a_hazard_is_fixed_by_its_unit_and_the_risk_follows(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        # a unit without hazards of the demo year
        unit_id = session.scalar(text(
            "SELECT u.id FROM units u WHERE u.precinct_id IS NOT NULL AND NOT EXISTS ("
            " SELECT 1 FROM record_links l JOIN records r ON r.id = l.record_id"
            " WHERE l.layer = 'units' AND l.feature_id = u.id AND r.kind = 'hazard')"
            " ORDER BY u.id DESC LIMIT 1"
        ))  # fmt: skip
        unit = session.get(Unit, unit_id)
        assert unit is not None
        precinct = session.scalar(text("SELECT code FROM precincts WHERE id = :id"),
                                  {"id": unit.precinct_id})  # fmt: skip
    officer = bearer(client, make_user(session_factory, Role.OFFICER,
                                       Jurisdiction(precinct_code=precinct)))  # fmt: skip
    owner = bearer(client, make_user(session_factory, Role.UNIT, Jurisdiction(unit_id=unit.id)))
    assert _risk(client, unit.id, officer) == {"open_hazards": 0, "hazard_level": 0}

    assignee = {"assignees": [{"type": "unit", "id": unit.id}]}
    minor = client.post("/api/hazards", json=_hazard(unit.id, 2, **assignee), headers=officer)
    major = client.post("/api/hazards", json=_hazard(unit.id, 4, **assignee), headers=officer)
    assert minor.status_code == major.status_code == 201, minor.text
    assert _risk(client, unit.id, owner) == {"open_hazards": 2, "hazard_level": 4}

    hazard = major.json()
    hazard = _move(client, hazard, "rectify", owner)
    hazard = _move(client, hazard, "report", owner)
    assert _risk(client, unit.id, officer) == {"open_hazards": 2, "hazard_level": 4}
    # the unit may not verify its own work
    refused = client.post(f"/api/hazards/{hazard['id']}/transitions", json={"action": "verify"},
                          headers={**owner, "If-Match": f'"{hazard["version"]}"'})  # fmt: skip
    assert refused.status_code == 403
    commander = bearer(client, make_user(session_factory, Role.COMMANDER))
    hazard = _move(client, hazard, "verify", commander)  # a level-4 hazard: a commander closes it
    assert hazard["state"] == "verified"
    assert _risk(client, unit.id, officer) == {"open_hazards": 1, "hazard_level": 2}
    assert _sql_risk(session_factory, unit.id) == (1, 2)
    hazard = _move(client, hazard, "reopen", officer)
    assert _risk(client, unit.id, officer) == {"open_hazards": 2, "hazard_level": 4}
    assert _sql_risk(session_factory, unit.id) == (2, 4)


def test_a_hazard_needs_a_level_and_a_category(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    commander = bearer(client, make_user(session_factory, Role.COMMANDER))
    body = _hazard(1, 9)
    response = client.post("/api/hazards", json=body, headers=commander)
    assert response.status_code == 422 and "level" in response.json()["detail"]
    body["details"] = {"level": 2}
    response = client.post("/api/hazards", json=body, headers=commander)
    assert response.status_code == 422 and "category" in response.json()["detail"]
