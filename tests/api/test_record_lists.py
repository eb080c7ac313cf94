"""Lists of one kind of record (GET /api/records): the phone's security tasks, clues and
hazard ledger - what the reader may list, soonest due first, with the steps they may take."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from layers.accounts.roles import Role
from layers.accounts.service import Jurisdiction
from layers.features.models import Unit
from tests.utils.places import precincts_with_units
from tests.utils.users import bearer, make_user

# Due long before the demo city's records: ours come first in a list soonest due first.
EARLY, LATER = "2020-01-01T09:00:00+08:00", "2020-01-02T09:00:00+08:00"


def _made(client: TestClient, path: str, headers: dict[str, str], body: dict[str, Any]) -> Any:
    response = client.post(path, json={"topic": "internal_security", **body}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def _listed(client: TestClient, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    response = client.get("/api/records", params={"limit": 10_000, **params}, headers=headers)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def test_the_phone_lists_security_tasks_clues_and_hazards_with_their_steps(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        here, there = precincts_with_units(session)[:2]
        unit_id = session.scalar(select(Unit.id).where(Unit.precinct_id == here.id).limit(1))
    commander = bearer(client, make_user(session_factory, Role.COMMANDER,
                                         Jurisdiction(precinct_code=here.code)))  # fmt: skip
    officer = bearer(client, make_user(session_factory, Role.OFFICER,
                                       Jurisdiction(precinct_code=here.code)))  # fmt: skip
    stranger = bearer(client, make_user(session_factory, Role.OFFICER,
                                        Jurisdiction(precinct_code=there.code)))  # fmt: skip
    about = [{"layer": "units", "id": unit_id}]

    def task(kind: str, due: str) -> Any:
        return _made(client, "/api/tasks", commander, {
            "title": f"{kind} 任务", "features": about, "due_at": due,
            "details": {"task_kind": kind}})  # fmt: skip

    security, other = task("security", LATER), task("other", EARLY)
    clue = _made(client, "/api/clues", commander, {
        "title": "群众举报", "features": about,
        "details": {"source": "hotline", "content": "夜间聚集", "informant": "张三"},
    })  # fmt: skip
    hazards = [_made(client, "/api/hazards", commander, {
        "title": f"消防隐患 {due[:10]}", "features": about, "due_at": due,
        "details": {"level": 3, "category": "fire"}}) for due in (LATER, EARLY)]  # fmt: skip

    listed = _listed(client, officer, kind="task", detail="task_kind:security")
    ids = [r["id"] for r in listed]
    assert security["id"] in ids and other["id"] not in ids
    mine = listed[ids.index(security["id"])]
    assert mine["features"] == about
    assert [a["action"] for a in mine["actions"]] == ["assign"]  # a lead hands it out

    ledger = [r["id"] for r in _listed(client, officer, kind="hazard")]
    assert ledger[:2] == [hazards[1]["id"], hazards[0]["id"]]  # soonest due first
    clues = _listed(client, officer, kind="clue")
    found = next(r for r in clues if r["id"] == clue["id"])
    assert found["details"]["informant"] != "张三"  # masked, as everywhere
    assert [a["action"] for a in found["actions"]] == ["verify"]

    # another precinct's officer lists none of them
    theirs = {
        r["id"] for k in ("task", "hazard", "clue") for r in _listed(client, stranger, kind=k)
    }
    assert not theirs & {security["id"], clue["id"], *(h["id"] for h in hazards)}

    # a closed record leaves the list unless closed ones are asked for
    version = {**commander, "If-Match": f'"{security["version"]}"'}
    cancelled = client.post(f"/api/tasks/{security['id']}/transitions",
                            json={"action": "cancel"}, headers=version)  # fmt: skip
    assert cancelled.status_code == 200, cancelled.text
    security_ids = {r["id"] for r in _listed(client, officer, kind="task",
                                             detail="task_kind:security")}  # fmt: skip
    assert security["id"] not in security_ids
    every = _listed(client, officer, kind="task", detail="task_kind:security", open="false")
    assert security["id"] in {r["id"] for r in every}


def test_lists_refuse_what_they_cannot_narrow_by(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        here = precincts_with_units(session)[0]
    officer = bearer(client, make_user(session_factory, Role.OFFICER,
                                       Jurisdiction(precinct_code=here.code)))  # fmt: skip
    for params, status in (
        ({"kind": "clue", "detail": "informant:张三"}, 422),  # personal: a match would tell
        ({"kind": "task", "detail": "colour:red"}, 422),
        ({"kind": "task", "detail": "task_kind"}, 422),
        ({"kind": "weather"}, 404),
    ):
        response = client.get("/api/records", params=params, headers=officer)
        assert response.status_code == status, (params, response.text)
