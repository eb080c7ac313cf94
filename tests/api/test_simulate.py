"""``warroom simulate`` keeps the demo city moving through the app's own doors.

Each run goes through the command line against the test database; what its report
claims is read back from the tables: incidents in districts, records whose steps are
steps of their workflow taken by a role that may take them, vehicles on the roads, and
a geofence alert when the fleet drives into a ring, crowds from the rail stations
flowing into the parks.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import Point
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from api.cli.main import app
from layers.accounts.roles import Role
from layers.audit.models import AuditRecord, Event
from layers.demo.network import KM_PER_DEG_LAT, KM_PER_DEG_LON
from layers.demo.simulate.roads import city_roads
from layers.features.models import Incident, Vehicle
from layers.records.catalog import KINDS
from layers.records.models import Record, RecordTransition
from layers.records.workflow import Party
from layers.tracks.models import VehiclePosition
from tests.api.test_tourism import noon_zone
from tests.utils.perimeters import create_perimeter, perimeter_body
from tests.utils.users import bearer, make_user

ON_ROAD_M = 15.0  # the fleet's GPS noise is at most 8 m east and north of the centre line


@pytest.fixture
def cli_database(database_url: str, city: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point ``warroom simulate`` at the test database (its demo city loaded).

    A crossing of a ring counts at once (no dwell): the run's positions are milliseconds
    apart in time.
    """
    monkeypatch.setenv("WARROOM_DATABASE_URL", database_url)
    monkeypatch.setenv("WARROOM_GEOFENCE_DWELL_S", "0")


def _simulate(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["simulate", "--rate", "60000", "--json", *args])
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def _metres_from_road(lon: float, lat: float) -> float:
    point = Point(lon * KM_PER_DEG_LON, lat * KM_PER_DEG_LAT)
    return 1000.0 * min(road.line_km.distance(point) for road in city_roads())


def _may_take(role: str, kind: str, action: str, source: str, target: str) -> bool:
    step = KINDS[kind].workflow.step(source, action)
    assert step is not None and step.target == target, (kind, action, source, target)
    # the simulated unit user acts as the record's assigned unit
    return Role(role) in step.roles or (role == "unit" and Party.ASSIGNEE in step.parties)


@pytest.mark.usefixtures("cli_database")
def test_a_run_moves_the_city_as_its_report_says(session_factory: sessionmaker[Session]) -> None:
    started = datetime.now(UTC)
    report = _simulate("--seed", "7", "--events", "80", "--duration", "600", "--vehicles", "6")
    assert {"incident.new", "task.new", "task.step", "hazard.new", "vehicles.drive"} <= set(
        report["events"]
    ), report
    assert not report["refused"], report["last_refusal"]
    incidents = [f["id"] for f in report["features"] if f["layer"] == "incidents"]
    vehicles = [f["id"] for f in report["features"] if f["layer"] == "vehicles"]
    with session_factory() as session:
        for incident in session.scalars(select(Incident).where(Incident.id.in_(incidents))):
            assert incident.district_id is not None and incident.precinct_id is not None
            assert incident.external_id is not None and incident.external_id.startswith("SIM")
            assert incident.status in {"open", "handling", "closed"}
        created = session.scalars(
            select(Event.feature_id)
            .where(Event.type == "feature.created", Event.layer == "incidents",
                   Event.feature_id.in_(incidents))
        ).all()  # fmt: skip
        assert len(created) == len(incidents) > 0 and set(created) == set(incidents)
        records = session.scalars(select(Record).where(Record.id.in_(report["records"]))).all()
        assert len(records) == len(report["records"]) > 0
        assert {r.kind for r in records} <= {"task", "hazard"} and all(
            r.state in KINDS[r.kind].workflow.states for r in records
        )
        kind_of = {r.id: r.kind for r in records}
        assert report["transitions"]
        for taken in report["transitions"]:
            record_id, action = taken["record_id"], taken["action"]
            kept = session.scalars(
                select(RecordTransition)
                .where(RecordTransition.record_id == record_id, RecordTransition.action == action,
                       RecordTransition.from_state == taken["from"],
                       RecordTransition.to_state == taken["to"])
            ).all()  # fmt: skip
            assert kept and all(k.actor_name.startswith("simulate:") for k in kept)
            audited = session.scalars(
                select(AuditRecord.actor_role)
                .where(AuditRecord.action == f"{kind_of[record_id]}.{action}",
                       AuditRecord.target_id == str(record_id), AuditRecord.result == "ok")
            ).all()  # fmt: skip
            assert audited and all(
                _may_take(str(role), kind_of[record_id], action, taken["from"], taken["to"])
                for role in audited
            )
        positions = session.execute(
            select(VehiclePosition.vehicle_id, VehiclePosition.lon, VehiclePosition.lat)
            .where(VehiclePosition.vehicle_id.in_(vehicles), VehiclePosition.at >= started)
        ).all()  # fmt: skip
        assert len(positions) == report["positions"] == report["events"]["vehicles.drive"] * 6
        assert max(_metres_from_road(lon, lat) for _, lon, lat in positions) < ON_ROAD_M
        moved = session.scalars(select(Vehicle).where(Vehicle.id.in_(vehicles))).all()
        assert all(v.position_at is not None and v.position_at >= started for v in moved)


@pytest.mark.usefixtures("cli_database")
def test_the_same_seed_reports_the_same_incidents_in_the_same_places(
    session_factory: sessionmaker[Session],
) -> None:
    def places(report: dict[str, Any]) -> list[tuple[str, float, float]]:
        ids = [f["id"] for f in report["features"]]
        with session_factory() as session:
            found = {i.id: i for i in session.scalars(select(Incident).where(Incident.id.in_(ids)))}
            return [(found[i].name, *session.execute(select(found[i].geom.ST_X(),
                                                             found[i].geom.ST_Y())).one())
                    for i in ids]  # fmt: skip

    first = places(_simulate("--seed", "11", "--only", "incident.new", "--events", "3"))
    again = places(_simulate("--seed", "11", "--only", "incident.new", "--events", "3"))
    assert len(first) == 3 and first == again


@pytest.mark.usefixtures("cli_database")
def test_the_fleet_driving_into_a_ring_raises_an_alert(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    drive = ("--seed", "5", "--only", "vehicles.drive", "--vehicles", "1")
    [vehicle] = [f["id"] for f in _simulate(*drive, "--events", "1")["features"]]
    with session_factory() as session:
        lon, lat = session.execute(
            select(Vehicle.geom.ST_X(), Vehicle.geom.ST_Y()).where(Vehicle.id == vehicle)
        ).one()  # fmt: skip
    commander = bearer(client, make_user(session_factory, Role.COMMANDER))
    now = datetime.now(UTC)
    window = {"starts_at": (now - timedelta(hours=1)).isoformat(),
              "ends_at": (now + timedelta(hours=2)).isoformat()}  # fmt: skip
    perimeter = create_perimeter(client, commander, perimeter_body(Point(lon, lat), **window))
    report = _simulate(*drive, "--events", "3")  # the same seed draws the same vehicle
    assert [f["id"] for f in report["features"]] == [vehicle]
    mine = {"perimeter_id": perimeter["id"], "feature_id": vehicle}
    alerts = client.get("/api/alerts", params=mine, headers=commander)
    found = alerts.json()["data"]
    assert {(a["kind"], a["ring"]) for a in found} == {("enter", "core"), ("enter", "control"),
                                                        ("enter", "outer")}  # fmt: skip
    assert sorted(a["id"] for a in found) == sorted(report["alerts"])


@pytest.mark.usefixtures("cli_database")
def test_crowds_leave_the_stations_for_the_parks(
    client: TestClient, session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WARROOM_TIMEZONE", noon_zone())  # no local day ends mid-run
    report = _simulate("--seed", "3", "--only", "visitors.count,stations.exits", "--events", "30")
    assert report["events"].get("stations.exits") and report["events"].get("visitors.count"), report
    with session_factory() as session:
        posted = session.scalar(select(AuditRecord.id).where(
            AuditRecord.action == "tourism.station_exits",
            AuditRecord.actor_name == "simulate:tourism"))  # fmt: skip
    assert posted is not None
    tourism = bearer(client, make_user(session_factory, Role.TOURISM))
    answer = client.get("/api/tourism/flows", headers=tourism)
    assert answer.status_code == 200, answer.text
    from_stations = [
        p for f in answer.json()["features"]
        if (p := f["properties"])["origin_kind"] == "rail_station" and p["source"] == "derived"
    ]  # fmt: skip
    assert from_stations and all(p["volume"] > 0 for p in from_stations), answer.json()
