"""The audit log: append-only for the application's role, sealed with a key the database lacks.

Tampering is done as the owner with plain SQL (the owner first switches off the guard
that refuses it even UPDATE and DELETE); ``warroom audit verify`` must then fail and
name the first record that no longer verifies.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError, ProgrammingError
from sqlalchemy.pool import NullPool
from typer.testing import CliRunner

from api.cli.main import app
from layers.accounts.scope import SYSTEM
from layers.audit.archive import seal_of
from layers.audit.service import record_audit
from layers.crypto.keys import bind_key_ring, load_key_ring
from layers.database import make_sessionmaker
from layers.settings import CryptoSettings
from tests.conftest import as_role, role_urls

runner = CliRunner()
RECORDS = 6


@dataclass(frozen=True)
class Chain:
    """A database of a test's own with a chain of ``RECORDS`` records: as owner and app."""

    owner: str
    app: str
    ids: list[int]


@pytest.fixture
def chain(scratch_database_url: str, key_file: Path) -> Iterator[Chain]:
    """Six audit records, sealed with the run's key ring, in a database of the test's own."""
    roles = role_urls()
    owner, app_url = (
        (as_role(scratch_database_url, roles[0]), as_role(scratch_database_url, roles[1]))
        if roles
        else (scratch_database_url, scratch_database_url)
    )
    engine = create_engine(app_url, poolclass=NullPool)
    ring = load_key_ring(CryptoSettings(key_file=key_file))
    factory = bind_key_ring(make_sessionmaker(engine), ring)
    with factory() as session, session.begin():
        ids = [
            record_audit(session, actor=SYSTEM, action="test.write", target_type="thing",
                         target_id=n, before={"n": n}, after={"n": n + 1, "big": 1e16}).id
            for n in range(RECORDS)
        ]  # fmt: skip
    engine.dispose()
    yield Chain(owner, app_url, ids)


def _as_owner(chain: Chain, *statements: str) -> None:
    """Run ``statements`` as the owner with the audit log's guard switched off."""
    engine = create_engine(chain.owner, poolclass=NullPool)
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        for statement in statements:
            conn.execute(text(statement))
        conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER USER"))
    engine.dispose()


def _verify(chain: Chain, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["audit", "verify", *args],
                           env={"WARROOM_DATABASE_URL": chain.app})  # fmt: skip
    return result.exit_code, " ".join(result.output.split())


def test_an_untouched_chain_verifies_and_names_its_head(chain: Chain) -> None:
    code, said = _verify(chain)
    assert code == 0, said
    assert f"audit chain intact: {RECORDS} records" in said
    assert f"head {chain.ids[-1]}:" in said


def test_a_changed_record_is_named(chain: Chain) -> None:
    changed = chain.ids[2]
    _as_owner(chain, f"UPDATE audit_log SET detail = 'nothing happened' WHERE id = {changed}")
    code, said = _verify(chain)
    assert code == 1
    assert f"record {changed}: its content does not match its seal" in said


def test_a_rehashed_record_is_named_too(chain: Chain) -> None:
    """Recomputing the hash without the key is no help: plain SM3 is not the seal."""
    changed = chain.ids[1]
    forged = "encode(sha256('forged'::bytea), 'hex')"
    _as_owner(chain, f"UPDATE audit_log SET detail = 'x', chain_hash = {forged} "
                     f"WHERE id = {changed}")  # fmt: skip
    code, said = _verify(chain)
    assert code == 1 and f"record {changed}:" in said


def test_a_deleted_record_breaks_the_link_of_the_next(chain: Chain) -> None:
    _as_owner(chain, f"DELETE FROM audit_log WHERE id = {chain.ids[3]}")
    code, said = _verify(chain)
    assert code == 1
    assert f"record {chain.ids[4]}: its predecessor is not the record before it" in said


def test_reordered_records_are_named(chain: Chain) -> None:
    first, second = chain.ids[1], chain.ids[2]
    _as_owner(chain, f"UPDATE audit_log SET id = -1 WHERE id = {first}",
              f"UPDATE audit_log SET id = {first} WHERE id = {second}",
              f"UPDATE audit_log SET id = {second} WHERE id = -1")  # fmt: skip
    code, said = _verify(chain)
    assert code == 1 and f"record {first}: its predecessor" in said


def test_records_cut_from_the_end_show_against_a_head_noted_earlier(chain: Chain) -> None:
    code, said = _verify(chain)
    head = said.rsplit("head ", 1)[1].split()[0]
    head_id = int(head.split(":")[0])
    _as_owner(chain, f"DELETE FROM audit_log WHERE id >= {head_id}")  # the head and after
    assert _verify(chain)[0] == 0  # a shorter chain verifies by itself ...
    code, said = _verify(chain, "--expect-head", head)
    assert code == 1  # ... but not against the head it had
    assert f"record {head_id}, the head noted earlier, is gone" in said


def test_a_record_appended_without_the_key_is_named(chain: Chain) -> None:
    """The application's role may append, but what it appends by hand carries no valid seal."""
    engine = create_engine(chain.app, poolclass=NullPool)
    with engine.begin() as conn:
        last = conn.execute(text("SELECT id, chain_hash FROM audit_log ORDER BY id DESC LIMIT 1"))
        last_id, last_hash = last.one()
        conn.execute(text(
            "INSERT INTO audit_log (id, at, actor_name, action, target_type, result, prev_hash, "
            "chain_hash) VALUES (:id, now(), 'nobody', 'forged', 'thing', 'ok', :prev, :prev)"
        ), {"id": last_id + 1, "prev": last_hash})  # fmt: skip
    engine.dispose()
    code, said = _verify(chain)
    assert code == 1
    assert f"record {last_id + 1}: an unkeyed record after the keyed chain began" in said


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET detail = 'x'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
        "UPDATE events SET type = 'x'",
        "DELETE FROM events",
        "TRUNCATE events",
        "ALTER TABLE audit_log DISABLE TRIGGER USER",
        "DROP TABLE audit_log",
        "SELECT setval('audit_log_id_seq', 1)",
    ],
)
def test_the_application_role_may_not_change_the_logs(chain: Chain, statement: str) -> None:
    if role_urls() is None:
        pytest.skip("one database URL only: the application is the owner, grants cannot apply")
    engine = create_engine(chain.app, poolclass=NullPool)
    with pytest.raises(ProgrammingError) as refused, engine.begin() as conn:
        conn.execute(text(statement))
    engine.dispose()
    said = str(refused.value.orig)
    assert "permission denied" in said or "must be owner" in said, said


def test_even_the_owner_is_refused_unless_the_guard_is_switched_off(chain: Chain) -> None:
    engine = create_engine(chain.owner, poolclass=NullPool)
    for statement in ("UPDATE audit_log SET detail = 'x'", "DELETE FROM audit_log",
                      "TRUNCATE audit_log"):  # fmt: skip
        with pytest.raises(DBAPIError, match="audit_log is append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    engine.dispose()
    assert _verify(chain)[0] == 0


def _archive(chain: Chain, path: Path, before: date) -> tuple[int, str]:
    result = runner.invoke(app, ["audit", "archive", str(path), "--before", before.isoformat()],
                           env={"WARROOM_DATABASE_URL": chain.app})  # fmt: skip
    return result.exit_code, " ".join(result.output.split())


def test_an_archive_holds_the_records_before_its_day_sealed_and_deletes_nothing(
    chain: Chain, key_file: Path, tmp_path: Path
) -> None:
    tomorrow = datetime.now(UTC).date() + timedelta(days=2)
    path = tmp_path / "audit.jsonl"
    code, said = _archive(chain, path, tomorrow)
    assert code == 0, said
    assert f"{RECORDS} audit records (ids {chain.ids[0]}-{chain.ids[-1]})" in said
    lines = path.read_bytes().splitlines()
    assert [json.loads(line)["id"] for line in lines] == chain.ids
    seal = json.loads(path.with_name("audit.jsonl.seal.json").read_text())
    assert seal["rows"] == RECORDS and seal["last_id"] == chain.ids[-1]
    assert seal["sm3"] == hashlib.new("sm3", path.read_bytes()).hexdigest()
    ring = load_key_ring(CryptoSettings(key_file=key_file))
    assert seal["mac"] == seal_of(seal, ring.key_for("audit", seal["key_version"]))
    assert seal_of({**seal, "rows": RECORDS - 1}, ring.key_for("audit", 1)) != seal["mac"]
    code, said = _verify(chain)  # the records are all still there, and the archive's own
    assert code == 0 and f"audit chain intact: {RECORDS + 1} records" in said
    code, said = _archive(chain, path, tomorrow)
    assert code != 0 and "exists" in said
    assert [json.loads(line)["id"] for line in path.read_bytes().splitlines()] == chain.ids


def test_an_archive_before_the_first_record_is_empty(chain: Chain, tmp_path: Path) -> None:
    path = tmp_path / "old.jsonl"
    code, said = _archive(chain, path, datetime.now(UTC).date() - timedelta(days=2))
    assert code == 0, said
    assert said.startswith("0 audit records") and path.read_bytes() == b""
