"""Activities, construction starts, clues, staff registrations and support requests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from layers.accounts.models import User
from layers.accounts.roles import Role
from layers.accounts.service import Jurisdiction
from layers.audit.models import AuditRecord
from layers.features.models import ConstructionSite, Unit
from tests.utils.places import precincts_with_units
from tests.utils.users import bearer, make_user

NOW = datetime.now(UTC)


class Cast:
    """A unit, its user, its precinct's officer, a commander and an officer elsewhere."""

    def __init__(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        with factory() as session:
            precincts = precincts_with_units(session)
            self.precinct, elsewhere = precincts[1], precincts[2]
            unit = session.scalars(select(Unit).where(Unit.precinct_id == self.precinct.id)).first()
            assert unit is not None
            self.unit_id = unit.id
            self.site_id = session.scalar(select(ConstructionSite.id).limit(1))
        self.unit = bearer(client, make_user(factory, Role.UNIT, Jurisdiction(unit_id=unit.id)))
        here = Jurisdiction(precinct_code=self.precinct.code)
        self.officer = bearer(client, make_user(factory, Role.OFFICER, here))
        there = Jurisdiction(precinct_code=elsewhere.code)
        self.stranger = bearer(client, make_user(factory, Role.OFFICER, there))
        self.commander = bearer(client, make_user(factory, Role.COMMANDER))


@pytest.fixture(scope="module")
def cast(client: TestClient, session_factory: sessionmaker[Session]) -> Cast:
    """The people of this module."""
    return Cast(client, session_factory)


def _body(feature: tuple[str, int], details: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {
        "title": "记录",
        "topic": "internal_security",
        "features": [{"layer": feature[0], "id": feature[1]}],
        "details": details,
        **more,
    }


def _act(
    client: TestClient, url: str, record: dict[str, Any], action: str, headers: dict[str, str]
) -> dict[str, Any]:
    response = client.post(
        f"{url}/{record['id']}/transitions",
        json={"action": action},
        headers={**headers, "If-Match": f'"{record["version"]}"'},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _active_ids(client: TestClient, headers: dict[str, str], **params: Any) -> list[int]:
    response = client.get("/api/records/active", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [f["id"] for f in response.json()["features"]]


def test_an_activity_reported_by_its_unit_is_on_the_map_while_it_runs(
    client: TestClient, cast: Cast
) -> None:
    details = {"organiser": "某商场", "expected_size": 3000, "place": "中庭"}
    running = _body(
        ("units", cast.unit_id),
        details,
        starts_at=(NOW - timedelta(hours=1)).isoformat(),
        ends_at=(NOW + timedelta(hours=3)).isoformat(),
    )
    later = {
        **running,
        "starts_at": (NOW + timedelta(days=2)).isoformat(),
        "ends_at": (NOW + timedelta(days=3)).isoformat(),
    }
    now_made = client.post("/api/activities", json=running, headers=cast.unit)
    later_made = client.post("/api/activities", json=later, headers=cast.unit)
    assert now_made.status_code == later_made.status_code == 201, now_made.text
    activity = now_made.json()
    assert activity["ends_at"] is not None and activity["precinct_id"] == cast.precinct.id
    shown = _active_ids(client, cast.officer, kind="activity")
    assert activity["id"] in shown and later_made.json()["id"] not in shown
    at = (NOW + timedelta(days=2, hours=1)).isoformat()
    assert later_made.json()["id"] in _active_ids(client, cast.officer, kind="activity", at=at)
    assert activity["id"] not in _active_ids(client, cast.stranger, kind="activity")
    # the unit may not approve its own activity; the officer does; finished, it leaves the map
    refused = client.post(
        f"/api/activities/{activity['id']}/transitions",
        json={"action": "approve"},
        headers={**cast.unit, "If-Match": f'"{activity["version"]}"'},
    )
    assert refused.status_code == 403
    activity = _act(client, "/api/activities", activity, "approve", cast.officer)
    activity = _act(client, "/api/activities", activity, "finish", cast.unit)
    assert activity["id"] not in _active_ids(client, cast.officer, kind="activity")
    backwards = {**running, "ends_at": (NOW - timedelta(days=1)).isoformat()}
    response = client.post("/api/activities", json=backwards, headers=cast.unit)
    assert response.status_code == 422 and "before starts_at" in response.json()["detail"]


def test_a_construction_start_is_filed_against_its_site(client: TestClient, cast: Cast) -> None:
    details = {"works": "基坑开挖", "contractor": "某建设集团"}
    body = _body(("construction_sites", cast.site_id), details, starts_at=NOW.isoformat())
    made = client.post("/api/construction-starts", json=body, headers=cast.commander)
    assert made.status_code == 201, made.text
    record = _act(client, "/api/construction-starts", made.json(), "acknowledge", cast.commander)
    assert record["state"] == "acknowledged"
    assert record["id"] in _active_ids(client, cast.commander, kind="construction_start")
    response = client.post(
        "/api/construction-starts", json={**body, "topic": "tourism"}, headers=cast.commander
    )
    assert response.status_code == 422


def test_staff_registration_keeps_personal_fields_out_of_the_audit_log(
    client: TestClient, cast: Cast, session_factory: sessionmaker[Session]
) -> None:
    person = {
        "person_name": "张三",
        "id_number": "11010519491231002X",
        "phone": "13812341234",
        "staff_role": "guard",
    }
    made = client.post(
        "/api/staff-registrations", json=_body(("units", cast.unit_id), person), headers=cast.unit
    )
    assert made.status_code == 201, made.text
    record = _act(client, "/api/staff-registrations", made.json(), "accept", cast.officer)
    assert record["state"] == "accepted"
    with session_factory() as session:
        kept = session.scalars(
            select(AuditRecord).where(
                AuditRecord.target_type == "staff_registration",
                AuditRecord.target_id == str(record["id"]),
            )
        ).all()
    assert len(kept) == 2
    for entry in kept:
        text = str(entry.before) + str(entry.after)
        assert "11010519491231002X" not in text and "13812341234" not in text and "张三" not in text
    bad = {**person, "id_number": "12345"}
    response = client.post(
        "/api/staff-registrations", json=_body(("units", cast.unit_id), bad), headers=cast.unit
    )
    assert response.status_code == 422 and "id_number" in response.json()["detail"]


def test_a_clue_is_verified_through_a_task_and_its_result_kept(
    client: TestClient, cast: Cast, session_factory: sessionmaker[Session]
) -> None:
    checker_name = make_user(session_factory, Role.OFFICER,
                             Jurisdiction(precinct_code=cast.precinct.code))  # fmt: skip
    checker = bearer(client, checker_name)
    with session_factory() as session:
        checker_id = session.scalar(select(User.id).where(User.username == checker_name))
    details = {"source": "hotline", "content": "有人在此处聚集赌博", "informant": "李四",
               "assignees": [{"type": "user", "id": checker_id}]}  # fmt: skip
    made = client.post(
        "/api/clues", json=_body(("units", cast.unit_id), details), headers=cast.officer
    )
    assert made.status_code == 201, made.text
    clue = _act(client, "/api/clues", made.json(), "verify", cast.officer)
    # taken into verification, it is a task for its assignee, about the same place
    task = client.get(f"/api/tasks/{clue['details']['task_id']}", headers=checker).json()
    assert task["details"]["task_kind"] == "clue_verification"
    assert task["details"]["assignees"] == [{"type": "user", "id": checker_id}]
    assert task["features"] == [{"layer": "units", "id": cast.unit_id}]
    assert task["details"]["description"] == "有人在此处聚集赌博" and task["state"] == "draft"
    # the officer is no assignee, and only a commander may conclude for others
    url = f"/api/clues/{clue['id']}/transitions"
    response = client.post(
        url, json={"action": "confirm"},
        headers={**cast.officer, "If-Match": f'"{clue["version"]}"'},
    )  # fmt: skip
    assert response.status_code == 403
    # a step sets only the fields it fills, checked by the kind's schema
    current = {**checker, "If-Match": f'"{clue["version"]}"'}
    for fill, problem in (({"content": "改"}, "sets no content"), ({"result": ""}, "result")):
        refused = client.post(url, json={"action": "confirm", "details": fill}, headers=current)
        assert refused.status_code == 422 and problem in refused.json()["detail"], refused.text
    result = {"result": "现场查获赌具，三人被带回审查"}
    confirmed = client.post(url, json={"action": "confirm", "details": result}, headers=current)
    assert confirmed.status_code == 200, confirmed.text
    clue = confirmed.json()
    assert clue["state"] == "confirmed" and clue["details"]["result"] == result["result"]
    assert clue["details"]["informant"] != "李四"  # still sealed and masked
    clue = _act(client, "/api/clues", clue, "archive", cast.officer)
    assert [h["action"] for h in clue["history"]] == ["create", "verify", "confirm", "archive"]
    assert clue["details"]["result"] == result["result"]
    assert (
        client.post(
            "/api/clues", json=_body(("units", cast.unit_id), details), headers=cast.unit
        ).status_code
        == 403
    )


def test_a_case_runs_from_clue_to_archive_with_its_results(
    client: TestClient, cast: Cast, session_factory: sessionmaker[Session]
) -> None:
    worker_name = make_user(session_factory, Role.OFFICER,
                            Jurisdiction(precinct_code=cast.precinct.code))  # fmt: skip
    worker = bearer(client, worker_name)
    with session_factory() as session:
        worker_id = session.scalar(select(User.id).where(User.username == worker_name))
    body = _body(("units", cast.unit_id),
                 {"summary": "销售假冒烟草", "assignees": [{"type": "user", "id": worker_id}]},
                 topic="tobacco")  # fmt: skip
    made = client.post("/api/cases", json=body, headers=cast.officer)
    assert made.status_code == 201, made.text
    case = made.json()
    assert case["state"] == "clue" and case["details"]["results"]["cases"] == 0
    case = _act(client, "/api/cases", case, "analyse", cast.officer)
    case = _act(client, "/api/cases", case, "hand_off", cast.officer)
    handed = client.get("/api/inbox", params={"limit": 200}, headers=worker).json()["data"]
    assert ("case.hand_off", case["id"]) in [(m["reason"], m["record"]["id"]) for m in handed]
    url = f"/api/cases/{case['id']}/transitions"
    results = {"cases": 1, "people": 2, "goods": "卷烟 300 条", "value_yuan": 45000}
    early = client.post(url, json={"action": "dispose", "details": {"results": {"cases": -1}}},
                        headers={**worker, "If-Match": f'"{case["version"]}"'})  # fmt: skip
    assert early.status_code == 422 and "results.cases" in early.json()["detail"]
    disposed = client.post(url, json={"action": "dispose", "details": {"results": results}},
                           headers={**worker, "If-Match": f'"{case["version"]}"'})  # fmt: skip
    assert disposed.status_code == 200, disposed.text
    case = disposed.json()
    assert case["details"]["results"] == {**results, "value_yuan": 45000.0}
    # a commander archives it, with the final count
    final = {"results": {**results, "people": 3}}
    archive = {"action": "archive", "details": final}
    version = {"If-Match": f'"{case["version"]}"'}
    assert client.post(url, json=archive, headers={**worker, **version}).status_code == 403
    archived = client.post(url, json=archive, headers={**cast.commander, **version})
    assert archived.status_code == 200, archived.text
    case = archived.json()
    assert case["state"] == "archived" and case["details"]["results"]["people"] == 3
    assert [h["action"] for h in case["history"]] == [
        "create", "analyse", "hand_off", "dispose", "archive",
    ]  # fmt: skip


def test_a_unit_asks_for_police_support_and_a_commander_decides(
    client: TestClient, cast: Cast
) -> None:
    details = {"reason": "周年庆客流大", "expected_size": 5000, "officers_wanted": 6}
    body = _body(
        ("units", cast.unit_id),
        details,
        starts_at=NOW.isoformat(),
        ends_at=(NOW + timedelta(hours=5)).isoformat(),
    )
    made = client.post("/api/police-support", json=body, headers=cast.unit)
    assert made.status_code == 201, made.text
    assert [a["action"] for a in made.json()["actions"]] == ["withdraw"]
    response = client.post(
        f"/api/police-support/{made.json()['id']}/transitions",
        json={"action": "approve"},
        headers={**cast.officer, "If-Match": '"1"'},
    )
    assert response.status_code == 403
    approved = _act(client, "/api/police-support", made.json(), "approve", cast.commander)
    assert approved["state"] == "approved"
    task = client.get(f"/api/tasks/{approved['details']['task_id']}", headers=cast.commander)
    assert task.status_code == 200
    assert task.json()["details"]["task_kind"] == "police_support"
    assert task.json()["features"] == [{"layer": "units", "id": cast.unit_id}]
    assert approved["id"] in _active_ids(client, cast.officer, kind="police_support")
