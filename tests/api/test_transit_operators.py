"""Commanders and administrators set who operates a transit feature; the company then has it."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from layers.accounts.roles import Role
from layers.accounts.service import Jurisdiction
from layers.audit.models import AuditRecord
from layers.demo.operators import METRO, MTR
from tests.utils.users import bearer, make_user


def _unit(factory: sessionmaker[Session], name: str) -> int:
    with factory() as session:
        return int(session.scalar(text("SELECT id FROM units WHERE name = :n"), {"n": name}))


def _station_of_metro_only(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return int(session.scalar(text(
            "SELECT id FROM rail_stations WHERE NOT '4号线' = ANY(lines) ORDER BY id LIMIT 1"
        )))  # fmt: skip


def _put(client: TestClient, url: str, ids: list[Any], headers: dict[str, str],
         version: str | None) -> Any:  # fmt: skip
    extra = {"If-Match": version} if version is not None else {}
    return client.put(url, json={"unit_ids": ids}, headers=headers | extra)


def test_a_commander_hands_a_station_to_a_second_company(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    metro, mtr = _unit(session_factory, METRO.name), _unit(session_factory, MTR.name)
    station = _station_of_metro_only(session_factory)
    url = f"/api/transit/operators/rail_stations/{station}"
    commander = bearer(client, make_user(session_factory, Role.COMMANDER))
    mtr_user = bearer(client, make_user(session_factory, Role.UNIT, Jurisdiction(unit_id=mtr)))
    before = client.get(url, headers=commander)
    assert before.status_code == 200, before.text
    assert [o["id"] for o in before.json()["operators"]] == [metro]
    version = before.headers["ETag"]

    assert _put(client, url, [mtr, metro], commander, None).status_code == 428
    assert _put(client, url, [mtr], commander, '"999"').status_code == 412
    unknown = _put(client, url, [mtr, 987654321], commander, version)
    assert unknown.status_code == 422 and "987654321" in unknown.json()["detail"]
    assert _put(client, url, [0], commander, version).status_code == 422
    done = _put(client, url, [mtr, metro], commander, version)
    assert done.status_code == 200, done.text
    assert done.json()["operators"] == [{"id": metro, "name": METRO.name},
                                        {"id": mtr, "name": MTR.name}]  # fmt: skip
    assert done.headers["ETag"] == f'"{int(version.strip(chr(34))) + 1}"'
    mine = client.get("/api/transit/my-units", params={"limit": 1000}, headers=mtr_user).json()
    assert ("rail_stations", station) in {(u["layer"], u["id"]) for u in mine["data"]}
    with session_factory() as session:
        audited = session.scalars(
            select(AuditRecord).where(AuditRecord.action == "rail_stations.operators",
                                      AuditRecord.target_id == str(station))
        ).all()  # fmt: skip
    assert [(a.before, (a.after or {}).get("unit_ids")) for a in audited] == [
        ({"unit_ids": [metro]}, sorted([metro, mtr]))
    ]
    # back as it was, at the new version
    assert _put(client, url, [metro], commander, done.headers["ETag"]).status_code == 200


def test_only_commanders_and_admins_set_operators(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    station = _station_of_metro_only(session_factory)
    url = f"/api/transit/operators/rail_stations/{station}"
    admin = bearer(client, make_user(session_factory, Role.ADMIN))
    version = client.get(url, headers=admin).headers["ETag"]
    metro = _unit(session_factory, METRO.name)
    with session_factory() as session:
        code = session.scalar(text("SELECT code FROM precincts ORDER BY id LIMIT 1"))
    for role in (Role.OFFICER, Role.PLANNER, Role.TOURISM):
        where = Jurisdiction(precinct_code=code) if role is Role.OFFICER else None
        headers = bearer(client, make_user(session_factory, role, where))
        assert _put(client, url, [metro], headers, version).status_code == 403, role
    company = bearer(client, make_user(session_factory, Role.UNIT, Jurisdiction(unit_id=metro)))
    assert _put(client, url, [metro], company, version).status_code == 403
    # only transit layers have operators; a unit is not one
    units = client.get(f"/api/transit/operators/units/{metro}", headers=admin)
    assert units.status_code == 404
    assert client.get(url, headers=admin).headers["ETag"] == version  # nothing changed
