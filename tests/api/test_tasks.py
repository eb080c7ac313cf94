"""Tasks walked through their workflow by the roles that do it, and the refusals."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from layers.accounts.models import User
from layers.accounts.roles import Role
from layers.accounts.service import Jurisdiction
from layers.audit.models import AuditRecord
from layers.features.models import Precinct, Unit
from layers.records.models import RecordTransition
from tests.utils.places import precincts_with_units
from tests.utils.users import bearer, make_user


class People:
    """A precinct's commander, officer and unit user, and an officer elsewhere."""

    def __init__(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        with factory() as session:
            self.precinct = precincts_with_units(session)[0]
            assert self.precinct is not None
            units = session.scalars(
                select(Unit).where(Unit.precinct_id == self.precinct.id).order_by(Unit.id)
            ).all()
            self.unit, self.neighbour = units[0], units[1]
            elsewhere = session.scalars(
                select(Precinct).where(Precinct.id != self.precinct.id).order_by(Precinct.id)
            ).first()
            assert elsewhere is not None
        here = Jurisdiction(precinct_code=self.precinct.code)
        self.officer_name = make_user(factory, Role.OFFICER, here)
        with factory() as session:
            self.officer_id = session.scalar(
                select(User.id).where(User.username == self.officer_name)
            )
        self.commander = bearer(client, make_user(factory, Role.COMMANDER))
        self.officer = bearer(client, self.officer_name)
        self.stranger = bearer(
            client, make_user(factory, Role.OFFICER, Jurisdiction(precinct_code=elsewhere.code))
        )
        self.unit_user = bearer(
            client, make_user(factory, Role.UNIT, Jurisdiction(unit_id=self.unit.id))
        )
        self.other_unit_user = bearer(
            client, make_user(factory, Role.UNIT, Jurisdiction(unit_id=self.neighbour.id))
        )
        self.tourism = bearer(client, make_user(factory, Role.TOURISM))


@pytest.fixture(scope="module")
def people(client: TestClient, session_factory: sessionmaker[Session]) -> People:
    """The cast of this module's workflows."""
    return People(client, session_factory)


def _new_task(people: People, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "检查学校消防通道",
        "topic": "internal_security",
        "features": [{"layer": "units", "id": people.unit.id}],
        "priority": 3,
        "due_at": "2026-12-20T18:00:00+08:00",
        "details": {
            "task_kind": "inspection",
            "assignees": [{"type": "user", "id": people.officer_id}],
        },
    }
    body.update(changes)
    return body


def _act(
    client: TestClient, task: dict[str, Any], action: str, headers: dict[str, str]
) -> dict[str, Any]:
    response = client.post(
        f"/api/tasks/{task['id']}/transitions",
        json={"action": action, "note": f"{action} 备注"},
        headers={**headers, "If-Match": f'"{task["version"]}"'},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_task_walks_from_draft_to_archive(
    client: TestClient, people: People, session_factory: sessionmaker[Session]
) -> None:
    response = client.post("/api/tasks", json=_new_task(people), headers=people.commander)
    assert response.status_code == 201, response.text
    task = response.json()
    assert task["state"] == "draft" and task["state_title"] == "草稿"
    assert task["features"] == [{"layer": "units", "id": people.unit.id}]
    assert task["precinct_id"] == people.precinct.id
    assert response.headers["Location"] == f"/api/tasks/{task['id']}"
    assert [a["action"] for a in task["actions"]] == ["assign", "cancel"]

    task = _act(client, task, "assign", people.commander)
    # the officer is the assignee: he sees what he may do next
    mine = client.get(f"/api/tasks/{task['id']}", headers=people.officer).json()
    assert [a["action"] for a in mine["actions"]] == ["accept"]
    for action in ("accept", "start", "submit"):
        task = _act(client, task, action, people.officer)
    task = _act(client, task, "return", people.commander)
    task = _act(client, task, "start", people.officer)
    task = _act(client, task, "submit", people.officer)
    task = _act(client, task, "approve", people.commander)
    task = _act(client, task, "archive", people.commander)
    assert task["state"] == "archived" and task["version"] == 10
    steps = [(h["action"], h["from_state"], h["to_state"]) for h in task["history"]]
    assert steps == [
        ("create", None, "draft"), ("assign", "draft", "assigned"),
        ("accept", "assigned", "accepted"), ("start", "accepted", "in_progress"),
        ("submit", "in_progress", "submitted"), ("return", "submitted", "returned"),
        ("start", "returned", "in_progress"), ("submit", "in_progress", "submitted"),
        ("approve", "submitted", "approved"), ("archive", "approved", "archived"),
    ]  # fmt: skip
    assert task["history"][5]["note"] == "return 备注"
    with session_factory() as session:
        audited = session.scalars(
            select(AuditRecord.action)
            .where(AuditRecord.target_type == "task", AuditRecord.target_id == str(task["id"]))
            .order_by(AuditRecord.id)
        ).all()
        kept = session.scalar(
            select(RecordTransition.actor_name)
            .where(RecordTransition.record_id == task["id"], RecordTransition.action == "accept")
        )  # fmt: skip
    assert audited == [f"task.{action}" for action, _, _ in steps]
    assert kept == people.officer_name


def test_a_wrong_action_is_409_listing_the_allowed_ones(client: TestClient, people: People) -> None:
    task = client.post("/api/tasks", json=_new_task(people), headers=people.commander).json()
    response = client.post(
        f"/api/tasks/{task['id']}/transitions", json={"action": "approve"},
        headers={**people.commander, "If-Match": f'"{task["version"]}"'},
    )  # fmt: skip
    assert response.status_code == 409
    assert response.json()["allowed"] == ["assign", "cancel"]
    assert "allowed now: assign, cancel" in response.json()["detail"]


def test_a_stale_or_missing_version_is_refused(client: TestClient, people: People) -> None:
    task = client.post("/api/tasks", json=_new_task(people), headers=people.commander).json()
    _act(client, task, "assign", people.commander)
    url = f"/api/tasks/{task['id']}/transitions"
    old = {**people.commander, "If-Match": f'"{task["version"]}"'}
    stale = client.post(url, json={"action": "cancel"}, headers=old)
    assert stale.status_code == 412 and stale.headers["ETag"] == f'"{task["version"] + 1}"'
    missing = client.post(url, json={"action": "cancel"}, headers=people.commander)
    assert missing.status_code == 428


def test_only_the_assignee_takes_the_assignees_steps(client: TestClient, people: People) -> None:
    task = client.post("/api/tasks", json=_new_task(people), headers=people.commander).json()
    task = _act(client, task, "assign", people.commander)
    response = client.post(
        f"/api/tasks/{task['id']}/transitions", json={"action": "accept"},
        headers={**people.commander, "If-Match": f'"{task["version"]}"'},
    )  # fmt: skip
    assert response.status_code == 403


def test_a_unit_does_its_own_task_and_never_sees_anothers(
    client: TestClient, people: People
) -> None:
    body = _new_task(people, details={"assignees": [{"type": "unit", "id": people.unit.id}]})
    task = client.post("/api/tasks", json=body, headers=people.officer).json()
    task = _act(client, task, "assign", people.officer)
    task = _act(client, task, "accept", people.unit_user)
    assert task["state"] == "accepted"
    hidden = client.get(f"/api/tasks/{task['id']}", headers=people.other_unit_user)
    unknown = client.get("/api/tasks/987654321", headers=people.other_unit_user)
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.json()["detail"].replace(str(task["id"]), "N") == unknown.json()[
        "detail"
    ].replace("987654321", "N")
    timeline = client.get(
        f"/api/layers/units/features/{people.neighbour.id}/records", headers=people.other_unit_user
    )
    assert timeline.status_code == 200
    assert task["id"] not in [r["id"] for r in timeline.json()["data"]]


def test_who_may_create_and_about_what(client: TestClient, people: People) -> None:
    # the tourism team makes no tasks (planners do: tests/api/test_perimeter_actions.py)
    assert (
        client.post("/api/tasks", json=_new_task(people), headers=people.tourism).status_code == 403
    )
    # an officer cannot hang a task on a unit outside his precinct, nor on one that is not there
    outside = client.post("/api/tasks", json=_new_task(people), headers=people.stranger)
    missing = _new_task(people, features=[{"layer": "units", "id": 987654321}])
    assert outside.status_code == 404
    assert client.post("/api/tasks", json=missing, headers=people.commander).status_code == 404
    bad_kind = _new_task(people, details={"task_kind": "party"})
    response = client.post("/api/tasks", json=bad_kind, headers=people.commander)
    assert response.status_code == 422 and "task_kind" in response.json()["detail"]
    bad_topic = client.post("/api/tasks", json=_new_task(people, topic="weather"),
                            headers=people.commander)  # fmt: skip
    assert bad_topic.status_code == 422 and "topic 'weather'" in bad_topic.json()["detail"]


def test_a_features_timeline_is_newest_first_paged_and_filtered(
    client: TestClient, people: People
) -> None:
    neighbour = [{"layer": "units", "id": people.neighbour.id}]
    made = [
        client.post("/api/tasks", json=_new_task(people, title=f"任务{i}", features=neighbour),
                    headers=people.commander).json()
        for i in range(5)
    ]  # fmt: skip
    _act(client, made[1], "assign", people.commander)
    url = f"/api/layers/units/features/{people.neighbour.id}/records"
    seen: list[int] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get(url, params=params, headers=people.officer).json()
        seen += [r["id"] for r in page["data"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen[:5] == [t["id"] for t in reversed(made)]  # then the demo year's, older
    assigned = client.get(url, params={"state": "assigned"}, headers=people.officer).json()
    assert assigned["data"][0]["id"] == made[1]["id"]
    assert {r["state"] for r in assigned["data"]} == {"assigned"}
    assert client.get(url, params={"kind": "task"}, headers=people.officer).json()["count"] >= 5
    assert client.get(url, params={"kind": "nope"}, headers=people.officer).status_code == 404
    assert client.get(url, params={"cursor": "bm9wZQ"}, headers=people.officer).status_code == 422
    # the stranger may not see the unit, so not its records either
    assert client.get(url, headers=people.stranger).status_code in (403, 404)


def test_comments_reach_the_other_parties(client: TestClient, people: People) -> None:
    task = client.post("/api/tasks", json=_new_task(people), headers=people.commander).json()
    url = f"/api/records/{task['id']}/comments"
    response = client.post(url, json={"body": "请优先检查地下车库"}, headers=people.commander)
    assert response.status_code == 201, response.text
    assert [c["body"] for c in response.json()["comments"]] == ["请优先检查地下车库"]
    inbox = client.get("/api/inbox", headers=people.officer).json()["data"]
    assert any(m["record"]["id"] == task["id"] and m["reason"] == "task.comment" for m in inbox)
    assert client.post(url, json={"body": "看不到"}, headers=people.stranger).status_code == 404
    assert client.post(url, json={"body": ""}, headers=people.officer).status_code == 422
