"""Records for many features at once: one per feature, or one for all."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from layers.accounts.models import User
from layers.accounts.roles import Role
from layers.accounts.service import Jurisdiction
from layers.audit.models import AuditRecord
from layers.features.models import Unit
from layers.records.models import Record
from tests.utils.users import bearer, make_user


def test_one_task_per_unit_of_a_precinct(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        precinct_id, code = session.execute(
            text(
                "SELECT p.id, p.code FROM precincts p JOIN units u ON u.precinct_id = p.id "
                "GROUP BY p.id ORDER BY count(*) DESC LIMIT 1"
            )
        ).one()
        units = session.scalars(select(Unit.id).where(Unit.precinct_id == precinct_id)).all()
        elsewhere = session.scalar(select(Unit.id).where(Unit.precinct_id != precinct_id))
    name = make_user(session_factory, Role.OFFICER, Jurisdiction(precinct_code=code))
    officer = bearer(client, name)
    with session_factory() as session:
        officer_id = session.scalar(select(User.id).where(User.username == name))
    body = {
        "title": "节前检查",
        "topic": "internal_security",
        "features": [{"layer": "units", "id": u} for u in units],
        "details": {"task_kind": "inspection", "assignees": [{"type": "user", "id": officer_id}]},
    }
    outside = {**body, "features": [*body["features"], {"layer": "units", "id": elsewhere}]}
    with session_factory() as session:
        before = session.scalar(select(func.count()).select_from(Record))
    assert client.post("/api/tasks/bulk", json=outside, headers=officer).status_code == 404
    response = client.post("/api/tasks/bulk", json=body, headers=officer)
    assert response.status_code == 201, response.text
    ids = response.json()["ids"]
    assert response.json()["count"] == len(ids) == len(units) > 10
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Record)) == before + len(units)
        placed = session.execute(
            text(
                "SELECT count(*) FROM records r JOIN record_links l ON l.record_id = r.id "
                "JOIN units u ON u.id = l.feature_id AND l.layer = 'units' "
                "WHERE r.id = ANY(:ids) AND ST_Equals(r.geom, u.geom) "
                "AND r.precinct_id = u.precinct_id AND r.state = 'draft'"
            ),
            {"ids": ids},
        ).scalar_one()
        audited = session.scalars(
            select(AuditRecord).where(
                AuditRecord.action == "task.bulk_create", AuditRecord.actor_name == name
            )
        ).all()
        steps = session.scalar(
            text(
                "SELECT count(*) FROM record_transitions"
                " WHERE record_id = ANY(:ids) AND action = 'create'"
            ),
            {"ids": ids},
        )
    assert placed == len(units) and steps == len(units)
    assert len(audited) == 1 and audited[0].after["record_ids"] == ids  # type: ignore[index]
    timeline = client.get(f"/api/layers/units/features/{units[0]}/records", headers=officer).json()
    assert timeline["data"][0]["id"] == ids[0] and timeline["data"][0]["title"] == "节前检查"


def test_one_task_for_all(client: TestClient, session_factory: sessionmaker[Session]) -> None:
    commander = bearer(client, make_user(session_factory, Role.COMMANDER))
    with session_factory() as session:
        units = session.scalars(select(Unit.id).order_by(Unit.id).limit(300)).all()
    body = {
        "title": "全市通查",
        "topic": "internal_security",
        "one_per_feature": False,
        "features": [{"layer": "units", "id": u} for u in units],
        "details": {},
    }
    response = client.post("/api/tasks/bulk", json=body, headers=commander)
    assert response.status_code == 201 and response.json()["count"] == 1
    task = client.get(f"/api/tasks/{response.json()['ids'][0]}", headers=commander).json()
    assert len(task["features"]) == 300
    hazard = {**body, "one_per_feature": True, "details": {"level": 1, "category": "fire"}}
    refused = client.post("/api/hazards/bulk", json=hazard, headers=commander)
    assert refused.status_code == 422
