"""Personal information through HTTP: sealed at rest, masked, revealed with an audit, searched."""

from __future__ import annotations

import hashlib
import random
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from layers.accounts.roles import Role
from layers.accounts.service import Jurisdiction
from layers.audit.models import AuditRecord
from layers.features.models import Unit
from tests.utils.places import precincts_with_units
from tests.utils.users import bearer, make_user

UNITS = "/api/layers/units/features"


class People:
    """An officer of a precinct, one elsewhere, a commander, and a unit of that precinct."""

    def __init__(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        with factory() as session:
            here, there = precincts_with_units(session)[:2]
            self.place = session.execute(
                select(func.ST_X(Unit.geom), func.ST_Y(Unit.geom))
                .where(Unit.precinct_id == here.id).limit(1)
            ).one()  # fmt: skip
        officer = Role.OFFICER
        self.officer = bearer(
            client, make_user(factory, officer, Jurisdiction(precinct_code=here.code))
        )
        self.stranger = bearer(
            client, make_user(factory, officer, Jurisdiction(precinct_code=there.code))
        )
        self.commander = bearer(client, make_user(factory, Role.COMMANDER))


@pytest.fixture(scope="module")
def people(client: TestClient, session_factory: sessionmaker[Session]) -> People:
    """The people of this module."""
    return People(client, session_factory)


def _phone() -> str:
    return "139" + "".join(random.choices("0123456789", k=8))


def _unit(client: TestClient, people: People, phone: str, name: str = "张三丰") -> dict[str, Any]:
    body = {
        "geometry": {"type": "Point", "coordinates": list(people.place)},
        "properties": {"name": "联系人测试单位", "category": "company",
                       "contact_name": name, "contact_phone": phone},
    }  # fmt: skip
    response = client.post(UNITS, json=body, headers=people.officer)
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made


def _reads(factory: sessionmaker[Session], action: str, target: int) -> list[AuditRecord]:
    with factory() as session:
        return list(session.scalars(select(AuditRecord).where(
            AuditRecord.action == action, AuditRecord.target_id == str(target)
        ).order_by(AuditRecord.id)))  # fmt: skip


def test_the_table_holds_ciphertext_not_the_phone(
    client: TestClient, people: People, session_factory: sessionmaker[Session]
) -> None:
    phone = _phone()
    unit = _unit(client, people, phone)
    assert unit["properties"]["contact_phone"] == f"{phone[:3]}****{phone[-4:]}"
    with session_factory() as session:
        row = session.execute(
            text(
                "SELECT contact_name, contact_phone, contact_phone_index FROM units WHERE id = :i"
            ),
            {"i": unit["id"]},
        ).one()
        anywhere = session.scalar(
            text("SELECT count(*) FROM units WHERE position(:p IN contact_phone) > 0 "
                 "OR position(:p IN contact_name) > 0"),
            {"p": phone.encode()},
        )  # fmt: skip
        audited = session.scalar(text("SELECT count(*) FROM audit_log WHERE "
                                      "before::text LIKE :p OR after::text LIKE :p"),
                                 {"p": f"%{phone}%"})  # fmt: skip
    name, sealed, index = (bytes(v) for v in row)
    assert phone.encode() not in sealed and "张三丰".encode() not in name
    assert sealed[0] == 1 and len(index) == 16
    assert anywhere == 0 and audited == 0


def test_an_officer_sees_masks_and_may_not_reveal(
    client: TestClient, people: People, session_factory: sessionmaker[Session]
) -> None:
    phone = _phone()
    unit = _unit(client, people, phone)
    url = f"{UNITS}/{unit['id']}"
    shown = client.get(url, headers=people.officer).json()["properties"]
    assert shown["contact_phone"] == f"{phone[:3]}****{phone[-4:]}"
    assert shown["contact_name"] == "张**"
    page = client.get(UNITS, params={"contact_phone": phone}, headers=people.officer).json()
    assert [f["properties"]["contact_phone"] for f in page["features"]] == [shown["contact_phone"]]
    refused = client.get(url, params={"reveal": "true"}, headers=people.officer)
    assert refused.status_code == 403
    assert phone not in refused.text
    [denied] = _reads(session_factory, "units.personal_read", unit["id"])
    assert denied.result == "denied"


def test_a_commander_reads_in_full_and_every_read_is_audited(
    client: TestClient, people: People, session_factory: sessionmaker[Session]
) -> None:
    phone = _phone()
    unit = _unit(client, people, phone, name="欧阳娜娜")
    url = f"{UNITS}/{unit['id']}"
    assert client.get(url, headers=people.commander).json()["properties"]["contact_name"] == "欧***"
    assert _reads(session_factory, "units.personal_read", unit["id"]) == []  # masks: no read
    for _ in range(2):
        full = client.get(url, params={"reveal": "true"}, headers=people.commander)
        assert full.status_code == 200, full.text
        assert full.json()["properties"]["contact_phone"] == phone
        assert full.json()["properties"]["contact_name"] == "欧阳娜娜"
    reads = _reads(session_factory, "units.personal_read", unit["id"])
    assert len(reads) == 2 and all(r.result == "ok" for r in reads)
    assert reads[0].actor_name.startswith("commander-") and "contact_phone" in (
        reads[0].detail or ""
    )


def test_search_by_phone_goes_through_the_blind_index(client: TestClient, people: People) -> None:
    phone = _phone()
    unit = _unit(client, people, phone)
    spaced = f"+86 {phone[:3]}-{phone[3:7]}-{phone[7:]}"
    for asked in (phone, spaced, f"{_phone()},{phone}"):
        page = client.get(UNITS, params={"contact_phone": asked}, headers=people.commander)
        assert page.status_code == 200, page.text
        assert [f["id"] for f in page.json()["features"]] == [unit["id"]], asked
    by_name = client.get(UNITS, params={"contact_name": " 张三丰 ", "limit": 10_000},
                         headers=people.commander).json()  # fmt: skip
    assert unit["id"] in [f["id"] for f in by_name["features"]]
    assert client.get(UNITS, params={"contact_phone": _phone()},
                      headers=people.commander).json()["features"] == []  # fmt: skip
    # the stranger's jurisdiction holds no such unit: the index does not widen a scope
    assert client.get(UNITS, params={"contact_phone": phone},
                      headers=people.stranger).json()["features"] == []  # fmt: skip
    sorted_by = client.get(UNITS, params={"sort": "contact_phone"}, headers=people.commander)
    assert sorted_by.status_code == 422
    items = "/ogc/collections/units/items"
    ogc = client.get(items, params={"contact_phone": phone}, headers=people.commander).json()
    assert [f["id"] for f in ogc["features"]] == [unit["id"]]
    cql = client.get(items, params={"filter": f"contact_phone = '{phone}'"},
                     headers=people.commander)  # fmt: skip
    assert cql.status_code == 422 and "matched exactly by its own parameter" in cql.text


def test_a_masked_value_sent_back_is_refused(client: TestClient, people: People) -> None:
    unit = _unit(client, people, _phone())
    response = client.patch(
        f"{UNITS}/{unit['id']}",
        json={"properties": {"contact_phone": unit["properties"]["contact_phone"]}},
        headers={**people.officer, "If-Match": f'"{unit["properties"]["version"]}"'},
    )
    assert response.status_code == 422 and "masked" in response.text


def test_a_value_moved_to_another_row_is_a_clear_error(
    client: TestClient, people: People, session_factory: sessionmaker[Session]
) -> None:
    first, second = _unit(client, people, _phone()), _unit(client, people, _phone())
    move = "UPDATE units SET contact_phone = (SELECT contact_phone FROM units WHERE id = :a) "
    with session_factory() as session, session.begin():
        kept = session.scalar(text("SELECT contact_phone FROM units WHERE id = :b"),
                              {"b": second["id"]})  # fmt: skip
        session.execute(text(move + "WHERE id = :b"), {"a": first["id"], "b": second["id"]})
    try:
        response = client.get(f"{UNITS}/{second['id']}", headers=people.officer)
        assert response.status_code == 500
        assert response.json()["code"] == "TamperedData"
        assert f"units.contact_phone of row {second['id']} does not verify" in response.text
    finally:
        with session_factory() as session, session.begin():
            session.execute(text("UPDATE units SET contact_phone = :v WHERE id = :b"),
                            {"v": kept, "b": second["id"]})  # fmt: skip


def test_exports_are_masked_unless_revealed_and_carry_their_sm3(
    client: TestClient, people: People, session_factory: sessionmaker[Session]
) -> None:
    phone = _phone()
    _unit(client, people, phone)
    export = "/api/layers/units/export"
    masked = client.get(export, params={"format": "csv"}, headers=people.officer)
    assert masked.status_code == 200, masked.text
    assert phone not in masked.text and f"{phone[:3]}****{phone[-4:]}" in masked.text
    assert masked.headers["X-Export-SM3"] == hashlib.new("sm3", masked.content).hexdigest()
    assert "X-Export-Signature" not in masked.headers  # no SM2 key in this app
    assert client.get(export, params={"format": "csv", "reveal": "true"},
                      headers=people.officer).status_code == 403  # fmt: skip
    full = client.get(export, params={"format": "csv", "reveal": "true"}, headers=people.commander)
    assert full.status_code == 200 and phone in full.text


def test_every_export_is_audited_masked_or_not(
    client: TestClient, people: People, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        before = session.scalar(select(func.max(AuditRecord.id))) or 0
    export = "/api/layers/units/export"
    masked = client.get(export, params={"format": "xlsx"}, headers=people.officer)
    full = client.get(export, params={"format": "csv", "reveal": "true"}, headers=people.commander)
    assert masked.status_code == full.status_code == 200
    with session_factory() as session:
        rows = session.execute(
            select(AuditRecord.actor_role, AuditRecord.detail)
            .where(AuditRecord.id > before, AuditRecord.action == "units.export")
        ).all()  # fmt: skip
    assert ("officer", f"xlsx wgs84: {masked.headers['X-Export-Count']} features, "
            "personal values masked") in rows  # fmt: skip
    assert ("commander", f"csv wgs84: {full.headers['X-Export-Count']} features, "
            "personal values in full") in rows  # fmt: skip


def _staff(phone: str, id_number: str) -> dict[str, Any]:
    return {"person_name": "李四", "id_number": id_number, "phone": phone, "staff_role": "guard"}


def test_a_staff_registration_is_sealed_masked_revealed_and_found(
    client: TestClient, people: People, session_factory: sessionmaker[Session]
) -> None:
    unit = _unit(client, people, _phone())
    phone, id_number = _phone(), "110105" + "".join(random.choices("0123456789", k=11)) + "X"
    body = {"title": "保安报备", "topic": "internal_security",
            "features": [{"layer": "units", "id": unit["id"]}],
            "details": _staff(phone, id_number)}  # fmt: skip
    made = client.post("/api/staff-registrations", json=body, headers=people.officer)
    assert made.status_code == 201, made.text
    record = made.json()
    assert record["details"]["id_number"] == f"{id_number[:4]}**********{id_number[-4:]}"
    assert record["details"]["person_name"] == "李*" and record["details"]["staff_role"] == "guard"
    with session_factory() as session:
        stored = session.scalar(text("SELECT details::text FROM records WHERE id = :i"),
                                {"i": record["id"]})  # fmt: skip
    assert id_number not in stored and phone not in stored and "李四" not in stored
    url = f"/api/staff-registrations/{record['id']}"
    assert client.get(url, params={"reveal": "true"}, headers=people.officer).status_code == 403
    full = client.get(url, params={"reveal": "true"}, headers=people.commander).json()
    assert full["details"]["id_number"] == id_number and full["details"]["phone"] == phone
    assert [r.result for r in _reads(session_factory, "staff_registration.personal_read",
                                     record["id"])] == ["denied", "ok"]  # fmt: skip
    for field, value in (("id_number", id_number.lower()), ("phone", phone)):
        found = client.get("/api/staff-registrations", params={"field": field, "value": value},
                           headers=people.officer)  # fmt: skip
        assert found.status_code == 200, found.text
        assert [r["id"] for r in found.json()["data"]] == [record["id"]]
        assert found.json()["data"][0]["details"]["phone"] == f"{phone[:3]}****{phone[-4:]}"
    none = client.get("/api/staff-registrations", params={"field": "phone", "value": _phone()},
                      headers=people.officer)  # fmt: skip
    assert none.json()["data"] == []
    other = client.get("/api/staff-registrations", params={"field": "staff_role", "value": "x"},
                       headers=people.officer)  # fmt: skip
    assert other.status_code == 422
    bulk = client.post("/api/staff-registrations/bulk",
                       json={**body, "one_per_feature": True}, headers=people.officer)  # fmt: skip
    assert bulk.status_code == 422 and "one at a time" in bulk.text


def test_a_units_proposed_contact_is_sealed_in_its_approval(
    client: TestClient, people: People, session_factory: sessionmaker[Session]
) -> None:
    unit = _unit(client, people, _phone())
    owner = bearer(client, make_user(session_factory, Role.UNIT, Jurisdiction(unit_id=unit["id"])))
    phone = _phone()
    response = client.patch(
        f"{UNITS}/{unit['id']}",
        json={"properties": {"contact_phone": phone}},
        headers={**owner, "If-Match": f'"{unit["properties"]["version"]}"'},
    )
    assert response.status_code == 202, response.text
    approval = response.json()
    proposed = approval["details"]["payload"]["properties"]["contact_phone"]
    assert proposed == f"{phone[:3]}****{phone[-4:]}"
    with session_factory() as session:
        stored = session.scalar(text("SELECT details::text FROM records WHERE id = :i"),
                                {"i": approval["id"]})  # fmt: skip
    assert phone not in stored
    decided = client.post(
        f"/api/approvals/{approval['id']}/transitions", json={"action": "approve"},
        headers={**people.officer, "If-Match": f'"{approval["version"]}"'},
    )  # fmt: skip
    assert decided.status_code == 200, decided.text
    full = client.get(f"{UNITS}/{unit['id']}", params={"reveal": "true"}, headers=people.commander)
    assert full.json()["properties"]["contact_phone"] == phone
