"""Bulk imports keep the rules of the one door: permission, jurisdiction, audit, atomicity."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from importers import staging
from layers.accounts.models import User
from layers.accounts.roles import Role
from layers.accounts.scope import Actor
from layers.accounts.service import Jurisdiction, actor_for
from layers.audit.models import AuditRecord, Event
from layers.errors import PermissionDenied
from layers.events import Change, subscribe
from tests.importers.conftest import Counter, Importer, counter_on, importer_on
from tests.utils.users import make_user


def _actor(factory: sessionmaker[Session], role: Role, where: Jurisdiction | None = None) -> Actor:
    name = make_user(factory, role, where)
    with factory() as session:
        user = session.scalars(select(User).where(User.username == name)).one()
        return actor_for(user)


def _units_csv(path: Path, prefix: str, points: list[tuple[float, float]]) -> Path:
    pd.DataFrame(
        {
            "id": [f"{prefix}{i}" for i in range(len(points))],
            "name": [f"单位{i}" for i in range(len(points))],
            "category": "bank",
            "lon": [p[0] for p in points],
            "lat": [p[1] for p in points],
        }
    ).to_csv(path, index=False)
    return path


def test_officer_imports_only_inside_his_precinct(
    run: Importer,
    count: Counter,
    prefix: str,
    tmp_path: Path,
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory() as session:
        precincts = session.execute(
            text(
                "SELECT code, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) "
                "FROM precincts ORDER BY id LIMIT 2"
            )
        ).all()
    (own, x1, y1), (_, x2, y2) = precincts
    officer = _actor(session_factory, Role.OFFICER, Jurisdiction(precinct_code=own))
    path = _units_csv(tmp_path / "units.csv", prefix, [(x1, y1), (x2, y2)])
    report = run(path, "units", actor=officer, id_field="id")
    assert (report.inserted, report.rejected) == (1, 1)
    assert report.reasons == {"outside your jurisdiction": 1}
    assert count("units", prefix) == 1
    # The row refused above, loaded by the city, cannot be pulled in by the officer.
    assert run(path, "units", id_field="id", mode="upsert").inserted == 1
    moved = _units_csv(tmp_path / "moved.csv", prefix, [(x1, y1), (x1, y1)])
    upsert = run(moved, "units", actor=officer, id_field="id", mode="upsert")
    assert (upsert.updated, upsert.rejected) == (1, 1)
    assert upsert.reasons == {"the existing feature with this id is outside your jurisdiction": 1}


def test_roles_without_write_permission_are_refused_and_audited(
    run: Importer, prefix: str, tmp_path: Path, session_factory: sessionmaker[Session]
) -> None:
    path = _units_csv(tmp_path / "units.csv", prefix, [(116.39, 39.91)])
    planner = _actor(session_factory, Role.PLANNER)
    with pytest.raises(PermissionDenied):
        run(path, "units", actor=planner, id_field="id")
    with session_factory() as session:
        code = session.scalar(text("SELECT code FROM precincts ORDER BY id LIMIT 1"))
    officer = _actor(session_factory, Role.OFFICER, Jurisdiction(precinct_code=code))
    with pytest.raises(PermissionDenied, match="rail_stations"):
        run(path, "rail_stations", actor=officer, id_field="id")
    with session_factory() as session:
        denied = session.scalar(
            select(func.count())
            .select_from(AuditRecord)
            .where(AuditRecord.actor_id == planner.user_id, AuditRecord.result == "denied")
        )
    assert denied == 1


def test_one_audit_record_and_one_event_per_import(
    run: Importer, prefix: str, tmp_path: Path, session_factory: sessionmaker[Session]
) -> None:
    path = _units_csv(tmp_path / f"{prefix}units.csv", prefix, [(116.39, 39.91), (116.40, 39.92)])
    heard: list[Change] = []
    stop = subscribe(heard.append)
    try:
        report = run(path, "units", id_field="id")
    finally:
        stop()
    assert report.inserted == 2
    assert Change("units", (116.39, 39.91, 116.40, 39.92)) in heard  # e.g. the tile cache
    with session_factory() as session:
        audits = session.scalars(
            select(AuditRecord).where(
                AuditRecord.action == "units.import", AuditRecord.detail.like(f"{prefix}%")
            )
        ).all()
        events = session.scalars(
            select(Event).where(
                Event.type == "import.finished", Event.payload["source"].astext == path.name
            )
        ).all()
    assert len(audits) == 1 and audits[0].after is not None and audits[0].after["inserted"] == 2
    assert len(events) == 1 and events[0].bbox is not None and events[0].layer == "units"


def _schema(factory: sessionmaker[Session]) -> set[str]:
    with factory() as session:
        rows = session.execute(
            text(
                "SELECT indexdef FROM pg_indexes WHERE tablename = 'units' UNION ALL "
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = 'units'::regclass"
            )
        ).scalars()
        return set(rows)


def test_a_crash_before_the_merge_leaves_the_layer_as_it_was_and_a_rerun_finishes(
    scratch: sessionmaker[Session], tmp_path: Path, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    run, count = importer_on(scratch, tmp_path), counter_on(scratch)
    schema = _schema(scratch)
    assert len(schema) > 10
    first = _units_csv(tmp_path / "first.csv", prefix + "old", [(116.39, 39.91)] * 3)
    assert run(first, "units", id_field="id").inserted == 3
    second = _units_csv(tmp_path / "second.csv", prefix + "new", [(116.40, 39.92)] * 5)

    def crash(*args: object, **kwargs: object) -> tuple[int, int]:
        raise KeyboardInterrupt("killed mid-import")  # after the delete of --mode replace

    with monkeypatch.context() as patch:
        patch.setattr(staging, "merge", crash)
        with pytest.raises(KeyboardInterrupt):
            run(second, "units", id_field="id", mode="replace")
    assert (count("units", prefix + "old"), count("units", prefix + "new")) == (3, 0)
    assert _schema(scratch) == schema
    report = run(second, "units", id_field="id", mode="replace")
    assert (report.deleted, report.inserted) == (3, 5)
    assert report.bbox == (116.39, 39.91, 116.40, 39.92)  # where rows went and came
    assert (count("units", prefix + "old"), count("units", prefix + "new")) == (0, 5)
    assert _schema(scratch) == schema
    with scratch() as session:
        leftovers = session.scalar(
            text(
                "SELECT count(*) FROM pg_class WHERE relname LIKE 'import_%' "
                "AND relpersistence = 't'"
            )
        )
    assert leftovers == 0
