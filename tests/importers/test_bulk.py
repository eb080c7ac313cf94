"""A bulk import rebuilds the layer beside itself and swaps it in: same schema, no row lost.

``BULK_ROWS`` is lowered so that a few hundred rows take the path a million would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from geo import hexes
from importers import loads, shadow
from layers.accounts.roles import Role
from layers.accounts.scope import Actor, Scope, ScopeKind
from layers.accounts.service import Jurisdiction
from layers.crypto.keys import KeyRing, bind_key_ring
from layers.demo.load import load_demo_city
from layers.errors import Conflict
from layers.features.grams import query_grams
from layers.migrate import alembic_config
from tests.importers.conftest import importer_on
from tests.utils.derived import mercator_drift, stale_grams
from tests.utils.perimeters import CELL_COUNT_DRIFT
from tests.utils.users import make_user

CITY_BOX = (116.25, 39.80, 116.55, 40.02)


@pytest.fixture
def city_db(scratch_database_url: str) -> Iterator[sessionmaker[Session]]:
    """A database of the test's own with a small demo city (precincts, 200 units)."""
    engine = create_engine(scratch_database_url)
    keys = KeyRing.generate()
    load_demo_city(engine, units=200, seed=3, keys=keys)
    yield bind_key_ring(sessionmaker(bind=engine, expire_on_commit=False), keys)
    engine.dispose()


@pytest.fixture
def bulk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let a few hundred rows take the rebuild-and-swap path."""
    monkeypatch.setattr(loads, "BULK_ROWS", 1)


def _points_csv(path: Path, prefix: str, n: int, seed: int = 1, **extra: object) -> Path:
    rng = np.random.default_rng(seed)
    west, south, east, north = CITY_BOX
    pd.DataFrame({
        "id": [f"{prefix}{i}" for i in range(n)],
        "name": [f"单位{prefix}{i}" for i in range(n)],
        "category": "bank",
        "lon": rng.uniform(west, east, n).round(6),
        "lat": rng.uniform(south, north, n).round(6),
        **extra,
    }).to_csv(path, index=False)  # fmt: skip
    return path


def _scalar(factory: sessionmaker[Session], sql: str, **params: object) -> object:
    with factory() as session:
        return session.scalar(text(sql), params)


def _schema(factory: sessionmaker[Session]) -> set[str]:
    """Everything of the units table a swap must carry over, as comparable text."""
    with factory() as session:
        return set(session.scalars(text("""
            SELECT 'index ' || indexname || ': ' || indexdef FROM pg_indexes
            WHERE tablename = 'units'
            UNION ALL SELECT 'constraint ' || conname || ': ' || pg_get_constraintdef(oid)
            FROM pg_constraint WHERE conrelid = 'units'::regclass OR confrelid = 'units'::regclass
            UNION ALL SELECT 'trigger ' || pg_get_triggerdef(oid) FROM pg_trigger
            WHERE tgrelid = 'units'::regclass AND NOT tgisinternal
            UNION ALL SELECT 'sequence ' || pg_get_serial_sequence('units', 'id')
        """)))  # fmt: skip


def _table_oid(factory: sessionmaker[Session]) -> int:
    return int(_scalar(factory, "SELECT 'units'::regclass::oid"))  # type: ignore[arg-type]


def test_a_bulk_insert_swaps_in_a_rebuilt_layer_with_the_same_schema(
    city_db: sessionmaker[Session], bulk: None, tmp_path: Path, scratch_database_url: str
) -> None:
    run = importer_on(city_db, tmp_path)
    schema, oid = _schema(city_db), _table_oid(city_db)
    assert len(schema) > 15
    unit = int(_scalar(city_db, "SELECT min(id) FROM units"))  # type: ignore[arg-type]
    make_user(city_db, Role.UNIT, Jurisdiction(unit_id=unit))  # a key from users to units
    report = run(_points_csv(tmp_path / "units.csv", "b", 500), "units", id_field="id")
    assert (report.inserted, report.rejected) == (500, 0)
    assert _table_oid(city_db) != oid  # a new table stands in the layer's place
    assert _schema(city_db) == schema
    command.check(alembic_config(scratch_database_url))  # still what the models describe
    assert _scalar(city_db, "SELECT count(*) FROM units") == 700
    assert _scalar(city_db, "SELECT to_regclass('units__import')") is None
    assert _scalar(city_db, CELL_COUNT_DRIFT) == 0  # the perimeters' count of the units recounted
    # Every row sits in the precinct the SQL rule gives and in the H3 cells of its point.
    assert _scalar(city_db, """
        SELECT count(*) FROM units AS u WHERE u.precinct_id IS DISTINCT FROM (
            SELECT p.id FROM precincts AS p WHERE ST_Intersects(p.geom, u.geom)
            ORDER BY p.id LIMIT 1)""") == 0  # fmt: skip
    with city_db() as session:
        rows = session.execute(text("SELECT ST_X(geom), ST_Y(geom), h3_cell, h3_coarse FROM units"
                                    " WHERE external_id LIKE 'b%'")).all()  # fmt: skip
    assert all(hexes.cell_of_point(x, y) == cell for x, y, cell, _ in rows)
    assert all([hexes.cell_of_point(x, y, r) for r in range(9)] == coarse
               for x, y, _, coarse in rows)  # fmt: skip
    # The key from users still holds, the triggers still queue changes, the sequence counts on.
    with city_db() as session, pytest.raises(IntegrityError), session.begin():
        session.execute(text("DELETE FROM units WHERE id = :id"), {"id": unit})
    with city_db() as session, session.begin():
        queued = session.scalar(text("SELECT count(*) FROM tile_cluster_dirty"))
        new_id = session.scalar(text(
            "INSERT INTO units (name, category, risk_level, is_key_unit, geom) VALUES "
            "('新单位', 'bank', 1, false, ST_SetSRID(ST_MakePoint(116.4, 39.9), 4326)) RETURNING id"
        ))  # fmt: skip
        assert session.scalar(text("SELECT count(*) FROM tile_cluster_dirty")) == queued + 1
    assert new_id > _scalar(city_db, "SELECT max(id) FROM units WHERE id <> :n", n=new_id)  # type: ignore[operator]


def test_a_bulk_upsert_keeps_ids_creation_and_unmapped_attributes(
    city_db: sessionmaker[Session], bulk: None, tmp_path: Path
) -> None:
    run = importer_on(city_db, tmp_path)
    first = _points_csv(tmp_path / "first.csv", "u", 300, risk_level=3)
    assert run(first, "units", id_field="id").inserted == 300
    before = dict(_rows(city_db))
    second = _points_csv(tmp_path / "second.csv", "u", 301, seed=2)  # one more, no risk_level
    frame = pd.read_csv(second)
    frame["name"] = frame["name"] + "（新）"
    frame.to_csv(second, index=False)
    report = run(second, "units", id_field="id", mode="upsert")
    assert (report.inserted, report.updated) == (1, 300)
    after = dict(_rows(city_db))
    for key, (fid, version, risk, name) in before.items():
        assert after[key][:3] == (fid, version + 1, risk) and after[key][3] == name + "（新）"
    assert after["u300"][1:3] == (1, 1)  # the new row: version 1, the default risk level
    assert _scalar(city_db, "SELECT count(*) FROM units") == 501


@pytest.mark.parametrize("rebuilt", [False, True], ids=["in place", "rebuilt"])
def test_imports_keep_the_grams_of_the_names_and_addresses_they_write(
    city_db: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rebuilt: bool
) -> None:
    monkeypatch.setattr(loads, "BULK_ROWS", 1 if rebuilt else 10**9)
    run = importer_on(city_db, tmp_path)
    streets = [f"朝阳区建国路{i}号" for i in range(300)]
    first = _points_csv(tmp_path / "first.csv", "g", 300, address=streets)
    assert run(first, "units", id_field="id").inserted == 300
    renamed = pd.read_csv(first).drop(columns="address")
    renamed["name"] = "北京鑫龘" + renamed["name"]
    renamed.to_csv(tmp_path / "renamed.csv", index=False)
    report = run(tmp_path / "renamed.csv", "units", id_field="id", mode="upsert")
    assert report.updated == 300  # the file maps no address: each keeps its own, grams too
    with city_db() as session:
        assert stale_grams(session.connection(), "units") == []
        assert mercator_drift(session.connection(), "units") < 1e-6
        found = session.execute(text(
            "SELECT count(*) FILTER (WHERE name_grams @> :name AND address_grams @> :street) "
            "FROM units WHERE external_id LIKE 'g%'"
        ), {"name": query_grams("鑫龘"), "street": query_grams("建国")}).scalar()  # fmt: skip
    assert found == 300


def _rows(factory: sessionmaker[Session]) -> list[tuple[str, tuple[int, int, int, str]]]:
    with factory() as session:
        rows = session.execute(text("SELECT external_id, id, version, risk_level, name "
                                    "FROM units WHERE external_id LIKE 'u%'")).all()  # fmt: skip
    return [(r[0], (r[1], r[2], r[3], r[4])) for r in rows]


def test_a_bulk_replace_by_an_officer_keeps_every_other_precinct(
    city_db: sessionmaker[Session], bulk: None, tmp_path: Path
) -> None:
    with city_db() as session:
        precinct, x, y = session.execute(text(
            "SELECT p.id, ST_X(ST_PointOnSurface(p.geom)), ST_Y(ST_PointOnSurface(p.geom)) "
            "FROM precincts AS p JOIN units AS u ON u.precinct_id = p.id "
            "GROUP BY p.id ORDER BY count(*) DESC LIMIT 1"
        )).one()  # fmt: skip
        own = int(session.scalar(text("SELECT count(*) FROM units WHERE precinct_id = :p"),
                                 {"p": precinct}) or 0)  # fmt: skip
    officer = Actor(user_id=None, username="officer", role=Role.OFFICER,
                    scope=Scope(ScopeKind.PRECINCT, precinct))  # fmt: skip
    path = tmp_path / "mine.csv"
    pd.DataFrame({"id": ["r1", "r2"], "name": ["甲", "乙"], "category": "bank",
                  "lon": [x, 116.0], "lat": [y, 40.5]}).to_csv(path, index=False)  # fmt: skip
    report = importer_on(city_db, tmp_path)(path, "units", actor=officer, id_field="id",
                                            mode="replace")  # fmt: skip
    assert (report.deleted, report.inserted, report.rejected) == (own, 1, 1)
    assert report.reasons == {"outside your jurisdiction": 1}
    assert _scalar(city_db, "SELECT count(*) FROM units") == 200 - own + 1
    assert _scalar(city_db, "SELECT count(*) FROM units WHERE precinct_id = :p", p=precinct) == 1


def test_readers_see_the_old_layer_until_the_swap_and_writers_wait(
    city_db: sessionmaker[Session], bulk: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    building, release = threading.Event(), threading.Event()
    original = shadow.ShadowLoad.build

    def slow_build(self: shadow.ShadowLoad, step: shadow.Step) -> None:
        building.set()
        release.wait(30)
        original(self, step)

    monkeypatch.setattr(shadow.ShadowLoad, "build", slow_build)
    run = importer_on(city_db, tmp_path)
    path = _points_csv(tmp_path / "units.csv", "w", 400)
    worker = threading.Thread(target=run, args=(path, "units"), kwargs={"id_field": "id"})
    worker.start()
    try:
        assert building.wait(30)
        with city_db() as session:
            session.execute(text("SET LOCAL statement_timeout = '2s'"))
            assert session.scalar(text("SELECT count(*) FROM units")) == 200  # not blocked
        with city_db() as session, pytest.raises(OperationalError, match="lock"):
            session.execute(text("SET LOCAL lock_timeout = '200ms'"))
            session.execute(text("UPDATE units SET name = name WHERE id = (SELECT min(id) "
                                 "FROM units)"))  # fmt: skip
    finally:
        release.set()
        worker.join(60)
    assert _scalar(city_db, "SELECT count(*) FROM units") == 600


_KILLED_IMPORT = """
import sys, time
from pathlib import Path
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker
from importers import loads, pipeline, shadow
from importers.report import ImportRequest
from layers.accounts.scope import SYSTEM

loads.BULK_ROWS = 1
def stuck(self, step):
    self._loader.commit()  # the new table's rows are committed, as before the index builds
    Path(sys.argv[3]).touch()
    time.sleep(120)
shadow.ShadowLoad.build = stuck
engine = create_engine(sys.argv[1])
pipeline.run_import(session_factory=sessionmaker(bind=engine), actor=SYSTEM, max_vertices=100,
                    request=ImportRequest(path=Path(sys.argv[2]), layer="units", id_field="id"))
"""


def test_a_killed_bulk_import_leaves_the_layer_and_a_rerun_finishes(
    city_db: sessionmaker[Session], bulk: None, tmp_path: Path, scratch_database_url: str
) -> None:
    path = _points_csv(tmp_path / "units.csv", "k", 300)
    ready = tmp_path / "ready"
    process = subprocess.Popen(
        [sys.executable, "-c", _KILLED_IMPORT, scratch_database_url, str(path), str(ready)],
        cwd=Path(__file__).resolve().parents[2], env={**os.environ},
    )  # fmt: skip
    try:
        for _ in range(600):
            if ready.exists() or process.poll() is not None:
                break
            time.sleep(0.1)
        assert ready.exists(), "the import never reached its index builds"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(30)
    assert _scalar(city_db, "SELECT count(*) FROM units") == 200
    assert _scalar(city_db, "SELECT count(*) FROM units__import") == 500  # the debris: all rows
    report = importer_on(city_db, tmp_path)(path, "units", id_field="id")
    assert report.inserted == 300
    assert _scalar(city_db, "SELECT count(*) FROM units") == 500
    assert _scalar(city_db, "SELECT to_regclass('units__import')") is None


def test_a_row_the_database_refuses_fails_the_bulk_import_and_changes_nothing(
    city_db: sessionmaker[Session], bulk: None, tmp_path: Path
) -> None:
    with city_db() as session, session.begin():  # a rule only the database knows
        session.execute(text("ALTER TABLE units ADD CONSTRAINT no_boom CHECK (name <> 'boom')"))
    path = _points_csv(tmp_path / "units.csv", "x", 300)
    frame = pd.read_csv(path)
    frame.loc[250, "name"] = "boom"
    frame.to_csv(path, index=False)
    with pytest.raises(Conflict, match="no_boom"):
        importer_on(city_db, tmp_path)(path, "units", id_field="id")
    assert _scalar(city_db, "SELECT count(*) FROM units") == 200
    assert _scalar(city_db, "SELECT to_regclass('units__import')") is None
    strict = importer_on(city_db, tmp_path)(path, "units", id_field="id", strict=True,
                                            mapping={"category": "'spaceport'"})  # fmt: skip
    assert strict.status == "refused" and strict.rejected == 300
    assert _scalar(city_db, "SELECT to_regclass('units__import')") is None


def test_grants_on_the_layer_survive_a_swap(
    city_db: sessionmaker[Session], bulk: None, tmp_path: Path
) -> None:
    if not _scalar(city_db, "SELECT rolsuper OR rolcreaterole FROM pg_roles "
                   "WHERE rolname = current_user"):  # fmt: skip
        pytest.skip("the test database's role may not create roles")
    role = f"reader_{uuid.uuid4().hex[:8]}"
    with city_db() as session, session.begin():
        session.execute(text(f"CREATE ROLE {role}"))
        session.execute(text(f"GRANT SELECT ON units TO {role}"))
    try:
        oid = _table_oid(city_db)
        importer_on(city_db, tmp_path)(_points_csv(tmp_path / "g.csv", "g", 200), "units",
                                       id_field="id")  # fmt: skip
        assert _table_oid(city_db) != oid
        assert _scalar(city_db, f"SELECT has_table_privilege('{role}', 'units', 'SELECT')")
        assert not _scalar(city_db, f"SELECT has_table_privilege('{role}', 'units', 'DELETE')")
    finally:
        with city_db() as session, session.begin():
            session.execute(text(f"DROP OWNED BY {role}"))
            session.execute(text(f"DROP ROLE {role}"))
