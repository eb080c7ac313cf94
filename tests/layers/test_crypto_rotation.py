"""``warroom keys rotate``: every personal value re-sealed under a new key, resumably."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, select, text
from typer.testing import CliRunner

from api.cli.main import app
from layers.accounts.roles import Role
from layers.accounts.scope import Actor
from layers.crypto.fields import FieldCipher, sealed_version
from layers.crypto.keys import FileKeySource, KeyRing, bind_key_ring
from layers.crypto.personal import BlindIndex
from layers.database import make_sessionmaker
from layers.demo.load import load_demo_city
from layers.features.models import Unit
from layers.features.rotation import reseal_layers, stale_rows
from layers.records.catalog import KINDS
from layers.records.refs import FeatureRef
from layers.records.service import NewRecord, create_record

STAFF = {"person_name": "王五", "id_number": "11010519491231002X", "phone": "13811112222",
         "staff_role": "guard"}  # fmt: skip


class Stop(Exception):
    """Stands for a process killed part-way."""


@pytest.fixture
def city(scratch_database_url: str, tmp_path: Path) -> Iterator[tuple[Engine, FileKeySource]]:
    """A small demo city and a staff registration, sealed with a key file of the test's own."""
    source = FileKeySource(tmp_path / "keys.json")
    source.create_if_missing()
    engine = create_engine(scratch_database_url)
    ring = source.load()
    load_demo_city(engine, units=300, seed=7, keys=ring)
    with bind_key_ring(make_sessionmaker(engine), ring)() as session, session.begin():
        unit = session.scalars(select(Unit).limit(1)).one()
        new = NewRecord(title="报备", topic="internal_security", details=STAFF,
                        features=[FeatureRef("units", unit.id)])  # fmt: skip
        officer = Actor(user_id=None, username="test", role=Role.OFFICER)
        create_record(session=session, kind=KINDS["staff_registration"], new=new, actor=officer)
    yield engine, source
    engine.dispose()


def _contacts(engine: Engine, ring: KeyRing) -> dict[int, tuple[int, str, bytes]]:
    """Return each unit's phone: (key version, plain text, blind index)."""
    cipher = FieldCipher(ring)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, contact_phone, contact_phone_index FROM units "
                                       "WHERE contact_phone IS NOT NULL"))  # fmt: skip
        return {
            row_id: (sealed_version(bytes(sealed)),
                     cipher.open(bytes(sealed), ("units", "contact_phone", row_id)), bytes(index))
            for row_id, sealed, index in rows
        }  # fmt: skip


def _rotate(source: FileKeySource, url: str) -> str:
    env = {"WARROOM_DATABASE_URL": url, "WARROOM_CRYPTO_KEY_FILE": str(source.path)}
    result = CliRunner().invoke(app, ["keys", "rotate", "--batch", "70"], env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_rotation_reseals_everything_and_resumes_after_a_stop(
    city: tuple[Engine, FileKeySource], scratch_database_url: str
) -> None:
    engine, source = city
    before = _contacts(engine, source.load())
    assert len(before) == 300 and {v for v, _, _ in before.values()} == {1}

    ring = source.add_version()  # what `keys rotate` does first; then it is stopped

    def stop_after_first_batch(step: str, done: int, total: int) -> None:
        if done:
            raise Stop

    with pytest.raises(Stop):
        reseal_layers(engine, ring, batch=100, progress=stop_after_first_batch)
    halfway = _contacts(engine, ring)  # every row reads, old key or new
    assert sorted(v for v, _, _ in halfway.values()).count(2) == 100
    assert {k: p for k, (_, p, _) in halfway.items()} == {k: p for k, (_, p, _) in before.items()}

    output = _rotate(source, scratch_database_url)
    assert "continuing the rotation to key version 2" in output
    assert source.load().current == 2  # no third key for an unfinished rotation
    after = _contacts(engine, ring)
    assert {v for v, _, _ in after.values()} == {2}
    assert {k: p for k, (_, p, _) in after.items()} == {k: p for k, (_, p, _) in before.items()}
    blind = BlindIndex(ring)
    assert all(index == blind.digest("phone", plain) for _, plain, index in after.values())
    assert stale_rows(engine, ring) == {"units": 0}
    with engine.connect() as connection:
        details = connection.scalar(text("SELECT details::text FROM records"))
    assert "13811112222" not in details and "11010519491231002X" not in details

    output = _rotate(source, scratch_database_url)  # all current: a new version this time
    assert "key version 3 added" in output and "records 1" in output
    assert {v for v, _, _ in _contacts(engine, source.load()).values()} == {3}
