"""``warroom simulate --only visitors.count`` walks a holiday day through the count door:
parks fill, some pass their capacity and raise alerts, nobody inside goes below zero."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from api.cli.main import app
from layers.audit.models import AuditRecord
from layers.tourism.models import ParkAlert
from tests.api.test_tourism import noon_zone


@pytest.fixture
def cli_database(database_url: str, city: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point ``warroom simulate`` at the test database, in a zone where it is about noon."""
    monkeypatch.setenv("WARROOM_DATABASE_URL", database_url)
    monkeypatch.setenv("WARROOM_TIMEZONE", noon_zone())


def test_a_holiday_fills_the_parks(cli_database: None,
                                   session_factory: sessionmaker[Session]) -> None:  # fmt: skip
    with session_factory() as session:
        last_alert = session.scalar(select(ParkAlert.id).order_by(ParkAlert.id.desc()).limit(1))
    run = CliRunner().invoke(app, ["simulate", "--rate", "60000", "--json", "--seed", "5",
                                   "--only", "visitors.count", "--events", "60"])  # fmt: skip
    assert run.exit_code == 0, run.output
    report = json.loads(run.stdout)
    assert report, report
    with session_factory() as session:
        alerts = session.scalars(select(ParkAlert).where(ParkAlert.id > (last_alert or 0)))
        levels = {(a.basis, a.level) for a in alerts}
        # 60 events walk 06:00-11:00: the crowded parks pass 95 % at their morning peak
        assert ("instant", "red") in levels or ("instant", "stop") in levels, levels
        inside = session.execute(text(
            "SELECT count(*), count(*) FILTER (WHERE entered > exited) FROM park_days "
            "WHERE park_id IN (SELECT park_id FROM tourism_points WHERE code LIKE 'K%')"
        )).one()  # fmt: skip
        assert inside[1] >= inside[0] // 2  # most parks hold visitors
        counted = session.scalar(select(AuditRecord.id).where(
            AuditRecord.action == "tourism.counts",
            AuditRecord.actor_name == "simulate:tourism"))  # fmt: skip
        assert counted is not None
