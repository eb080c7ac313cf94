"""``warroom backup`` and ``warroom restore`` on real PostGIS databases of the tests' own."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import NullPool
from typer.testing import CliRunner

from api.cli.main import app
from layers.accounts.scope import SYSTEM
from layers.audit.service import verify_audit_chain
from layers.backup.manifest import DUMP_FILE, MANIFEST_FILE, manifest_digest
from layers.crypto.keys import bind_key_ring, load_key_ring
from layers.demo.load import load_demo_city
from layers.features.registry import get_layer
from layers.features.service import create_feature, delete_feature, update_feature
from layers.migrate import MIGRATIONS_DIR, is_current, upgrade
from layers.settings import CryptoSettings
from tests.conftest import throwaway_database
from tests.utils.samples import SAMPLE_PROPERTIES, sample_geometry

runner = CliRunner()
# The run's key ring (tests/conftest.py): the cities' personal values and audit records
# are sealed with it, and the commands the tests run read it too.
KEYS = load_key_ring(CryptoSettings())
Fingerprint = dict[str, tuple[int, str]]


def _engine(url: str) -> Engine:
    return create_engine(url, poolclass=NullPool)


def _admin(url: str) -> Engine:
    return create_engine(
        make_url(url).set(database="postgres"), poolclass=NullPool, isolation_level="AUTOCOMMIT"
    )


def _databases(url: str) -> set[str]:
    """Return the databases whose names start with the one of ``url``."""
    name = make_url(url).database
    with _admin(url).connect() as conn:
        rows = conn.scalars(text("SELECT datname FROM pg_database WHERE starts_with(datname, :n)"),
                            {"n": name})  # fmt: skip
        return set(rows)


def _drop_others(url: str, *, keep: bool = True) -> None:
    """Drop the databases a restore of ``url`` made (and with ``keep=False``, ``url``'s own)."""
    name = make_url(url).database
    with _admin(url).connect() as conn:
        for other in _databases(url) - ({name} if keep else set()):
            conn.execute(text(f'DROP DATABASE IF EXISTS "{other}" WITH (FORCE)'))


def _rows(conn: Connection, table: str, where: str = "") -> tuple[int, str]:
    """Return the count and an MD5 of every row of ``table`` in a fixed order."""
    query = (f"SELECT count(*), coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') "
             f'FROM public."{table}" t {where}')  # fmt: skip
    count, digest = conn.execute(text(query)).one()
    return int(count), str(digest)


def fingerprint(url: str) -> Fingerprint:
    """Return every public table's row count and row digest."""
    with _engine(url).connect() as conn:
        tables = conn.scalars(text(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        )).all()  # fmt: skip
        return {table: _rows(conn, table) for table in tables}


def _city(url: str) -> None:
    """Load a small city, then create, change and delete features so audit rows exist."""
    engine = _engine(url)
    load_demo_city(engine, units=300, seed=1, keys=KEYS)
    units = get_layer("units")
    with bind_key_ring(sessionmaker(engine), KEYS)() as session, session.begin():
        made = [
            create_feature(session=session, spec=get_layer(layer),
                           geometry=sample_geometry(get_layer(layer), 116.40, 39.91),
                           properties=SAMPLE_PROPERTIES[layer], actor=SYSTEM, max_vertices=10_000)
            for layer in ("units", "incidents", "parks")
        ]  # fmt: skip
        update_feature(session=session, spec=units, feature_id=made[0].id, actor=SYSTEM,
                       expected_version=1, properties={"risk_level": 4},
                       max_vertices=10_000)  # fmt: skip
        first = session.scalar(text("SELECT min(id) FROM units"))
        delete_feature(session=session, spec=units, feature_id=first, actor=SYSTEM,
                       expected_version=1)  # fmt: skip
    engine.dispose()


def _invoke(url: str, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={"WARROOM_DATABASE_URL": url})
    return result.exit_code, result.output


def _one_line(output: str) -> str:
    lines = output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in output, output
    return lines[0]


@pytest.fixture
def city_url(scratch_database_url: str) -> Iterator[str]:
    """A throwaway database of the test's own with a city and audited writes in it."""
    _city(scratch_database_url)
    yield scratch_database_url
    _drop_others(scratch_database_url)


def test_round_trip_keeps_every_row_and_the_audit_chain(city_url: str, tmp_path: Path) -> None:
    backup = tmp_path / "backup"
    before = fingerprint(city_url)
    assert before["audit_log"][0] >= 5 and before["units"][0] == 300 + 1 - 1

    code, output = _invoke(city_url, "backup", str(backup))
    assert code == 0, output
    manifest = json.loads((backup / MANIFEST_FILE).read_text())
    assert manifest["row_counts"] == {table: count for table, (count, _) in before.items()}

    engine = _engine(city_url)
    with bind_key_ring(sessionmaker(engine), KEYS)() as session, session.begin():  # undone later
        create_feature(session=session, spec=get_layer("units"),
                       geometry=sample_geometry(get_layer("units"), 116.41, 39.92),
                       properties=SAMPLE_PROPERTIES["units"], actor=SYSTEM,
                       max_vertices=10_000)  # fmt: skip
    changed = fingerprint(city_url)
    app_session = engine.connect()  # the app, still connected
    app_session.execute(text("SELECT 1"))

    code, output = _invoke(city_url, "restore", str(backup))
    assert code == 1 and "--force" in _one_line(output)
    assert fingerprint(city_url) == changed and _databases(city_url) == {
        make_url(city_url).database
    }

    code, output = _invoke(city_url, "restore", str(backup), "--force")
    assert code == 0, output
    with pytest.raises(OperationalError):
        app_session.execute(text("SELECT 1"))  # closed by --force
    engine.dispose()

    after = fingerprint(city_url)
    assert {t: v for t, v in after.items() if t != "audit_log"} == {
        t: v for t, v in before.items() if t != "audit_log"
    }
    with _engine(city_url).connect() as conn:
        assert _rows(conn, "audit_log", "WHERE action <> 'database.restore'") == before["audit_log"]
        last = conn.execute(
            text("SELECT action, actor_name FROM audit_log ORDER BY id DESC")
        ).first()
        assert last is not None and last.action == "database.restore"
        assert last.actor_name.startswith("cli:")
        assert is_current(conn)
    with bind_key_ring(sessionmaker(_engine(city_url)), KEYS)() as session:
        assert verify_audit_chain(session) is None

    (kept,) = _databases(city_url) - {make_url(city_url).database}
    assert "_before_restore_" in kept and kept in output
    kept_url = make_url(city_url).set(database=kept).render_as_string(hide_password=False)
    assert fingerprint(kept_url)["units"] == changed["units"]  # the old database, untouched
    with _engine(kept_url).connect() as conn:
        actions = conn.scalars(text("SELECT action FROM audit_log ORDER BY id DESC LIMIT 2"))
        assert list(actions) == ["units.create", "database.backup"]


# --- refusals: one backup of one database, tampered in copies -----------------------------


@pytest.fixture(scope="module")
def sealed(
    server_url: str, migrated_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    """A database with a city and a good backup of it, for the refusal tests."""
    with throwaway_database(server_url, migrated_template) as url:
        _city(url)
        backup = tmp_path_factory.mktemp("sealed") / "backup"
        code, output = _invoke(url, "backup", str(backup))
        assert code == 0, output
        yield url, backup
        _drop_others(url)


def _flip_a_dump_byte(backup: Path) -> None:
    dump = backup / DUMP_FILE
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0x01
    dump.write_bytes(bytes(data))


def _edit_a_count(backup: Path) -> None:
    path = backup / MANIFEST_FILE
    document = json.loads(path.read_text())
    document["row_counts"]["units"] -= 1
    path.write_text(json.dumps(document))


def _resealed_as_newer_schema(backup: Path) -> None:
    path = backup / MANIFEST_FILE
    document = json.loads(path.read_text())
    document["schema_revision"] = "9999"
    document["manifest_sm3"] = manifest_digest(document)
    path.write_text(json.dumps(document))


def _resealed_with_a_wrong_count(backup: Path) -> None:
    """A manifest that passes its digest but not the restored database's counts."""
    path = backup / MANIFEST_FILE
    document = json.loads(path.read_text())
    document["row_counts"]["units"] += 1
    document["manifest_sm3"] = manifest_digest(document)
    path.write_text(json.dumps(document))


@pytest.mark.parametrize(
    ("tamper", "said"),
    [
        (_flip_a_dump_byte, f"{DUMP_FILE} does not match the manifest"),
        (_edit_a_count, "manifest's SM3 digest does not match"),
        (_resealed_as_newer_schema, "schema revision '9999' is newer"),
        (_resealed_with_a_wrong_count, "restored row counts differ from the manifest's: units"),
    ],
    ids=["dump", "manifest", "newer-schema", "counts"],
)
def test_restore_refuses_a_tampered_backup_and_touches_nothing(
    sealed: tuple[str, Path], tmp_path: Path, tamper: Callable[[Path], None], said: str
) -> None:
    url, good = sealed
    backup = shutil.copytree(good, tmp_path / "backup")
    tamper(backup)
    before, databases = fingerprint(url), _databases(url)
    code, output = _invoke(url, "restore", str(backup), "--force")
    assert code == 1
    line = _one_line(output)
    assert said in line
    assert fingerprint(url) == before and _databases(url) == databases


def test_backup_never_overwrites_a_backup(sealed: tuple[str, Path]) -> None:
    url, good = sealed
    digest = (good / DUMP_FILE).read_bytes()
    code, output = _invoke(url, "backup", str(good))
    assert code == 1 and "already holds a backup" in _one_line(output)
    assert (good / DUMP_FILE).read_bytes() == digest


# --- an older schema is migrated before the switch ---------------------------------------


@pytest.fixture
def older_schema_url(server_url: str) -> Iterator[str]:
    """A database migrated to the revision before this code's head."""
    script = ScriptDirectory(str(MIGRATIONS_DIR))
    head = script.get_revision(script.get_current_head())
    assert head is not None and isinstance(head.down_revision, str)
    name = f"warroom_test_{uuid.uuid4().hex[:10]}"
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    with _admin(server_url).connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        upgrade(url, head.down_revision)
        yield url
    finally:
        _drop_others(url, keep=False)


def test_restore_migrates_a_backup_of_an_older_schema(
    older_schema_url: str, tmp_path: Path
) -> None:
    backup = tmp_path / "backup"
    code, output = _invoke(older_schema_url, "backup", str(backup))
    assert code == 0, output
    with _engine(older_schema_url).connect() as conn:
        assert not is_current(conn)
    code, output = _invoke(older_schema_url, "restore", str(backup))
    assert code == 0 and "migrated" in output, output
    with _engine(older_schema_url).connect() as conn:
        assert is_current(conn)


def test_restore_recreates_a_lost_database(sealed: tuple[str, Path]) -> None:
    url, good = sealed
    lost = make_url(url).set(database=f"{make_url(url).database}_lost")
    lost_url = lost.render_as_string(hide_password=False)
    code, output = _invoke(lost_url, "restore", str(good))
    assert code == 0, output
    assert "kept as" not in output
    manifest = json.loads((good / MANIFEST_FILE).read_text())
    restored = fingerprint(lost_url)
    assert restored["units"][0] == manifest["row_counts"]["units"]
    assert restored["audit_log"][0] == manifest["row_counts"]["audit_log"] + 1
    assert _databases(lost_url) == {lost.database}
