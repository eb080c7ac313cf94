"""Changes that need a second person wait as approvals; nothing changes before approval."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from layers.accounts.roles import Role
from layers.accounts.service import Jurisdiction
from layers.audit.models import AuditRecord
from layers.features.models import Unit
from tests.utils.places import precincts_with_units
from tests.utils.users import bearer, make_user


class Cast:
    """A unit and its user, its precinct's officer, an officer elsewhere, a commander."""

    def __init__(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        with factory() as session:
            precincts = precincts_with_units(session)
            here, there = precincts[4], precincts[5]
            self.unit = session.scalars(
                select(Unit).where(Unit.precinct_id == here.id).order_by(Unit.id)
            ).first()
            assert self.unit is not None
        self.owner = bearer(
            client, make_user(factory, Role.UNIT, Jurisdiction(unit_id=self.unit.id))
        )
        self.officer = bearer(
            client, make_user(factory, Role.OFFICER, Jurisdiction(precinct_code=here.code))
        )
        self.stranger = bearer(
            client, make_user(factory, Role.OFFICER, Jurisdiction(precinct_code=there.code))
        )
        self.commander = bearer(client, make_user(factory, Role.COMMANDER))


@pytest.fixture(scope="module")
def cast(client: TestClient, session_factory: sessionmaker[Session]) -> Cast:
    """The people of this module."""
    return Cast(client, session_factory)


def _unit(client: TestClient, cast: Cast) -> dict[str, Any]:
    response = client.get(f"/api/layers/units/features/{cast.unit.id}", headers=cast.officer)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def _told(client: TestClient, headers: dict[str, str]) -> list[tuple[str, int]]:
    """Return the (reason, record id) of the caller's latest messages."""
    inbox = client.get("/api/inbox", params={"limit": 200}, headers=headers).json()["data"]
    return [(m["reason"], m["record"]["id"]) for m in inbox if m["record"] is not None]


def _pending(client: TestClient, headers: dict[str, str]) -> list[int]:
    response = client.get("/api/approvals/pending", params={"limit": 1000}, headers=headers)
    assert response.status_code == 200, response.text
    return [a["id"] for a in response.json()["data"]]


def _decide(
    client: TestClient, approval: dict[str, Any], action: str, headers: dict[str, str]
) -> Any:
    return client.post(
        f"/api/approvals/{approval['id']}/transitions",
        json={"action": action},
        headers={**headers, "If-Match": f'"{approval["version"]}"'},
    )


def test_a_unit_edit_waits_for_its_officer_and_then_applies(
    client: TestClient, cast: Cast, session_factory: sessionmaker[Session]
) -> None:
    before = _unit(client, cast)
    edit = {"properties": {"contact_phone": "010-66668888", "address": "新地址1号"}}
    response = client.patch(
        f"/api/layers/units/features/{cast.unit.id}",
        json=edit,
        headers={**cast.owner, "If-Match": f'"{before["properties"]["version"]}"'},
    )
    assert response.status_code == 202, response.text
    approval = response.json()
    assert response.headers["Location"] == f"/api/approvals/{approval['id']}"
    assert approval["kind"] == "approval" and approval["state"] == "pending"
    # nothing changed yet
    assert _unit(client, cast)["properties"] == before["properties"]
    # it waits in the inbox and the list of those who may decide it, not of others
    for deciding in (cast.officer, cast.commander):
        assert ("approval.pending", approval["id"]) in _told(client, deciding)
        assert approval["id"] in _pending(client, deciding)
    assert all(message[1] != approval["id"] for message in _told(client, cast.stranger))
    assert approval["id"] not in _pending(client, cast.stranger)
    # an officer elsewhere cannot see it, the unit cannot approve its own change
    assert client.get(f"/api/approvals/{approval['id']}", headers=cast.stranger).status_code == 404
    assert _decide(client, approval, "approve", cast.owner).status_code == 403
    timeline = client.get(
        f"/api/layers/units/features/{cast.unit.id}/records",
        params={"kind": "approval"},
        headers=cast.officer,
    ).json()
    assert approval["id"] in [r["id"] for r in timeline["data"]]
    decided = _decide(client, approval, "approve", cast.officer)
    assert decided.status_code == 200, decided.text
    after = _unit(client, cast)["properties"]
    # the phone is personal: every read shows its mask (tests/api/test_personal_info.py)
    assert after["contact_phone"] == "010-****8888" and after["address"] == "新地址1号"
    assert after["version"] == before["properties"]["version"] + 1
    with session_factory() as session:
        update = session.scalars(
            select(AuditRecord)
            .where(AuditRecord.action == "units.update", AuditRecord.target_id == str(cast.unit.id))
            .order_by(AuditRecord.id.desc())
        ).first()
    assert update is not None and update.actor_name.startswith("unit-")
    # the unit hears of the decision
    inbox = client.get("/api/inbox", headers=cast.owner).json()["data"]
    assert any(
        m["record"]["id"] == approval["id"] and m["reason"] == "approval.approve" for m in inbox
    )


def test_a_unit_user_cannot_delete_its_unit(client: TestClient, cast: Cast) -> None:
    version = _unit(client, cast)["properties"]["version"]
    response = client.delete(
        f"/api/layers/units/features/{cast.unit.id}",
        headers={**cast.owner, "If-Match": f'"{version}"'},
    )
    assert response.status_code == 403
    assert _unit(client, cast)["properties"]["version"] == version


def test_a_rejected_or_stale_edit_changes_nothing(client: TestClient, cast: Cast) -> None:
    version = _unit(client, cast)["properties"]["version"]
    url = f"/api/layers/units/features/{cast.unit.id}"
    first = client.patch(
        url,
        json={"properties": {"contact_name": "王五"}},
        headers={**cast.owner, "If-Match": f'"{version}"'},
    ).json()
    second = client.patch(
        url,
        json={"properties": {"contact_name": "赵六"}},
        headers={**cast.owner, "If-Match": f'"{version}"'},
    ).json()
    assert _decide(client, first, "reject", cast.officer).status_code == 200
    assert _unit(client, cast)["properties"]["contact_name"] != "王*"  # 王五, masked
    assert _decide(client, second, "approve", cast.officer).status_code == 200
    assert _unit(client, cast)["properties"]["contact_name"] == "赵*"
    # a third edit made against the old version cannot be approved any more
    stale = client.patch(
        url,
        json={"properties": {"contact_name": "钱七"}},
        headers={**cast.owner, "If-Match": f'"{version}"'},
    )
    assert stale.status_code == 409


def test_closing_a_high_level_hazard_needs_a_commander(client: TestClient, cast: Cast) -> None:
    body = {
        "title": "重大隐患",
        "topic": "internal_security",
        "features": [{"layer": "units", "id": cast.unit.id}],
        "details": {"level": 4, "category": "fire"},
    }
    hazard = client.post("/api/hazards", json=body, headers=cast.officer).json()
    for action in ("rectify", "report"):
        hazard = client.post(
            f"/api/hazards/{hazard['id']}/transitions",
            json={"action": action},
            headers={**cast.officer, "If-Match": f'"{hazard["version"]}"'},
        ).json()
    asked = client.post(
        f"/api/hazards/{hazard['id']}/transitions",
        json={"action": "verify"},
        headers={**cast.officer, "If-Match": f'"{hazard["version"]}"'},
    )
    assert asked.status_code == 202, asked.text
    approval = asked.json()
    assert (
        client.get(f"/api/hazards/{hazard['id']}", headers=cast.officer).json()["state"]
        == "rectified"
    )
    # only commanders may decide it: it waits in their inbox, not in the asking officer's
    assert ("approval.pending", approval["id"]) in _told(client, cast.commander)
    assert ("approval.pending", approval["id"]) not in _told(client, cast.officer)
    assert _decide(client, approval, "approve", cast.officer).status_code == 403
    assert _decide(client, approval, "approve", cast.commander).status_code == 200
    closed = client.get(f"/api/hazards/{hazard['id']}", headers=cast.officer).json()
    assert closed["state"] == "verified"
    assert closed["history"][-1]["actor"].startswith("officer-")
