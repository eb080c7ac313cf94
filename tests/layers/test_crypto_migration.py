"""Migration 0022 seals the plain personal values a database already holds."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from layers.crypto.fields import FieldCipher
from layers.crypto.keys import load_key_ring
from layers.crypto.personal import BlindIndex
from layers.migrate import upgrade
from layers.records.personal import open_details
from layers.settings import CryptoSettings
from tests.utils.migrations import database_at

STAFF = {"person_name": "赵六", "id_number": "11010519491231002X", "phone": "13900001111",
         "staff_role": "guard"}  # fmt: skip


@pytest.fixture
def at_0021(server_url: str) -> Iterator[str]:
    """A database of the test's own, migrated to the revision before the sealing."""
    with database_at(server_url, "0021") as url:
        yield url


def test_plain_contacts_and_staff_details_are_sealed_on_upgrade(at_0021: str) -> None:
    engine = create_engine(at_0021)
    with engine.begin() as connection:
        unit = connection.scalar(text(
            "INSERT INTO units (name, category, risk_level, is_key_unit, geom, contact_name, "
            "contact_phone) VALUES ('老单位', 'company', 1, false, "
            "ST_SetSRID(ST_MakePoint(116.4, 39.9), 4326), '钱七', "
            "'010-66665555') RETURNING id"
        ))  # fmt: skip
        record = connection.scalar(
            text("INSERT INTO records (kind, topic, state, title, details) VALUES "
                 "('staff_registration', 'internal_security', 'submitted', '报备', "
                 "CAST(:d AS jsonb)) RETURNING id"),
            {"d": json.dumps(STAFF, ensure_ascii=False)},
        )  # fmt: skip
        proposal = {"change": "feature_update", "payload": {"properties": {
            "contact_phone": "13700002222", "address": "新址"}}}  # fmt: skip
        approval = connection.scalar(
            text("INSERT INTO records (kind, topic, state, title, details) VALUES "
                 "('approval', 'internal_security', 'pending', '修改', CAST(:d AS jsonb)) "
                 "RETURNING id"),
            {"d": json.dumps(proposal, ensure_ascii=False)},
        )  # fmt: skip
    upgrade(at_0021)  # the run's key file: WARROOM_CRYPTO_KEY_FILE (tests/conftest.py)
    ring = load_key_ring(CryptoSettings())
    with engine.connect() as connection:
        name, phone, index = connection.execute(
            text(
                "SELECT contact_name, contact_phone, contact_phone_index FROM units WHERE id = :i"
            ),
            {"i": unit},
        ).one()
        details = connection.scalar(text("SELECT details FROM records WHERE id = :i"),
                                    {"i": record})  # fmt: skip
        proposed = connection.scalar(text("SELECT details FROM records WHERE id = :i"),
                                     {"i": approval})  # fmt: skip
        digests: dict[str, bytes] = dict(connection.execute(
            text("SELECT field, digest FROM record_personal_index WHERE record_id = :i"),
            {"i": record},
        ).all())  # fmt: skip
    engine.dispose()
    cipher, blind = FieldCipher(ring), BlindIndex(ring)
    assert b"66665555" not in bytes(phone)
    assert cipher.open(bytes(phone), ("units", "contact_phone", unit)) == "010-66665555"
    assert cipher.open(bytes(name), ("units", "contact_name", unit)) == "钱七"
    assert bytes(index) == blind.digest("phone", "01066665555")
    assert "13900001111" not in json.dumps(details) and details["staff_role"] == "guard"
    fields = {"person_name": "name", "id_number": "id_number", "phone": "phone"}
    assert open_details(ring, record, details, fields) == STAFF  # type: ignore[arg-type]
    assert bytes(digests["id_number"]) == blind.digest("id_number", STAFF["id_number"])
    assert "13700002222" not in json.dumps(proposed)
    assert proposed["payload"]["properties"]["address"] == "新址"
    path = {"payload.properties.contact_phone": "phone"}
    assert open_details(ring, approval, proposed, path) == proposal  # type: ignore[arg-type]
