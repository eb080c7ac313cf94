"""``warroom simulate --only visitors.count`` walks a holiday day through the count door:
parks fill, some pass their capacity and raise alerts, nobody inside goes below zero. The
demo load leaves a holiday's station exits behind: a crowd from a station comes with it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from api.cli.main import app
from layers.accounts.roles import Role
from layers.audit.models import AuditRecord
from layers.tourism.demo import DEMO_ZONE
from layers.tourism.models import ParkAlert
from tests.api.test_tourism import noon_zone
from tests.utils.users import bearer, make_user


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


def test_the_demo_stations_let_a_holiday_out(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    # the demo load posted the 24 hours before it, each as the holiday's hour of that time of
    # day in Beijing; the current hour is left to the simulation
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    exits: dict[int, dict[int, int]] = {h: {} for h in range(24)}
    starts: dict[int, datetime] = {}
    with session_factory() as session:
        rows = session.execute(
            text(
                "SELECT station_id, at, exits FROM station_exits WHERE at >= :since AND at < :end"
            ),
            {"since": end - timedelta(hours=25), "end": end},
        )
        for station, at, n in rows:
            hour = at.astimezone(DEMO_ZONE).hour
            exits[hour][station], starts[hour] = n, at
        related = session.execute(text(
            "SELECT r.feature_id, r.park_id, min(t.code) FROM park_relations AS r "
            "JOIN tourism_points AS t ON t.park_id = r.park_id AND t.kind = 'gate' "
            "WHERE r.layer = 'rail_stations' AND NOT r.hidden "
            "GROUP BY 1, 2 ORDER BY 1, 2 LIMIT 1")).one()  # fmt: skip
    stations = exits[11].keys()
    assert stations and related[0] in stations, exits
    # nobody before the trains run, the morning rise, the midday peak (at most stations:
    # another test may resend an hour of one)
    assert sum(exits[3].get(s, 0) > 0 for s in stations) <= len(stations) // 10
    rising = sum(exits[3].get(s, 0) < exits[7].get(s, 0) < exits[11][s] for s in stations)
    assert rising >= 0.8 * len(stations), exits
    # a gate of a park near a station counts visitors at midday: some came from the station
    station, park, gate = related
    tourism = bearer(client, make_user(session_factory, Role.TOURISM))
    at = (starts[11] + timedelta(minutes=30)).isoformat()
    reading = {"point": gate, "at": at, "in": 50, "out": 0}
    counted = client.post("/api/tourism/counts", headers=tourism, json={"readings": [reading]})
    assert counted.status_code == 200, counted.text
    until = starts[11] + timedelta(hours=1)
    window = {"since": starts[11].isoformat(), "until": until.isoformat()}
    arcs = client.get("/api/tourism/flows", headers=tourism, params=window).json()["features"]
    came = [p for f in arcs if (p := f["properties"])["park_id"] == park
            and p["origin_kind"] == "rail_station" and p["source"] == "derived"]  # fmt: skip
    assert came and str(station) in {p["origin"] for p in came}, arcs
    assert sum(p["volume"] for p in came) <= 50  # no more than the gates counted
