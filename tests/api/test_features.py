"""Reading and editing features over HTTP: ETags, If-Match, scope, audit and events."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from layers.accounts.roles import Role
from layers.accounts.scope import SYSTEM
from layers.accounts.service import Jurisdiction
from layers.audit.models import AuditRecord, Event
from layers.audit.service import verify_audit_chain
from layers.features.models import Precinct, RailStation, Unit
from layers.features.registry import all_layers, get_layer
from layers.features.service import create_feature
from tests.utils.samples import SAMPLE_PROPERTIES, sample_geometry
from tests.utils.users import bearer, make_user

# Inside the demo city, near Tiananmen (WGS84).
CENTRE = (116.3912, 39.9073)


def _unit_in_other_precinct(session: Session, precinct_id: int) -> Unit:
    unit = session.scalar(select(Unit).where(Unit.precinct_id != precinct_id).limit(1))
    assert unit is not None
    return unit


@pytest.mark.parametrize("spec", all_layers(), ids=lambda s: s.id)
def test_every_layer_accepts_and_returns_features(
    spec: Any, client: TestClient, session_factory: sessionmaker[Session],
    admin: dict[str, str],
) -> None:  # fmt: skip
    properties = dict(SAMPLE_PROPERTIES[spec.id])
    if spec.id == "vehicles":
        properties["plate"] = properties["name"] = "京A·T0002"
    with session_factory() as session, session.begin():
        feature = create_feature(
            session=session, spec=spec, geometry=sample_geometry(spec, 116.40, 39.91),
            properties=properties, actor=SYSTEM, external_id=f"test-{spec.id}",
            max_vertices=10_000,
        )  # fmt: skip
        feature_id = feature.id
    response = client.get(f"/api/layers/{spec.id}/features/{feature_id}", headers=admin)
    assert response.status_code == 200, response.text
    body = response.json()
    assert response.headers["etag"] == '"1"'
    assert body["geometry"]["type"] == spec.geometry_type
    assert body["properties"]["name"] == properties["name"]
    assert body["properties"]["external_id"] == f"test-{spec.id}"
    if spec.id not in ("districts", "precincts"):
        assert body["properties"]["precinct_id"] is not None
        assert body["properties"]["district_id"] is not None


def test_feature_is_assigned_to_the_precinct_containing_it(
    session_factory: sessionmaker[Session], city: None
) -> None:
    spec = get_layer("units")
    with session_factory() as session, session.begin():
        precinct = session.scalar(select(Precinct).order_by(Precinct.id).limit(1))
        assert precinct is not None
        inside = session.scalar(select(func.ST_AsText(func.ST_PointOnSurface(precinct.geom))))
        lon, lat = (float(v) for v in inside.removeprefix("POINT(").rstrip(")").split())
        unit = create_feature(
            session=session, spec=spec, geometry=sample_geometry(spec, lon, lat),
            properties=SAMPLE_PROPERTIES["units"], actor=SYSTEM, max_vertices=10_000,
        )  # fmt: skip
        assert unit.precinct_id == precinct.id
        assert unit.district_id == precinct.district_id


def test_patch_needs_if_match_and_rejects_stale_versions(
    client: TestClient, admin: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        unit_id = session.scalar(select(Unit.id).order_by(Unit.id).limit(1))
    url = f"/api/layers/units/features/{unit_id}"
    version = int(client.get(url, headers=admin).headers["etag"].strip('"'))
    change = {"properties": {"risk_level": 4}}
    missing = client.patch(url, json=change, headers=admin)
    assert missing.status_code == 428
    ok = client.patch(url, json=change, headers={**admin, "If-Match": f'"{version}"'})
    assert ok.status_code == 200, ok.text
    assert ok.headers["etag"] == f'"{version + 1}"'
    assert ok.json()["properties"]["risk_level"] == 4
    stale = client.patch(url, json={"properties": {"risk_level": 1}},
                         headers={**admin, "If-Match": f'"{version}"'})  # fmt: skip
    assert stale.status_code == 412
    assert stale.json()["current_version"] == version + 1
    assert stale.headers["etag"] == f'"{version + 1}"'
    assert client.get(url, headers=admin).json()["properties"]["risk_level"] == 4


def test_write_is_audited_with_before_after_and_emits_an_event(
    client: TestClient, admin: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        unit = session.scalars(select(Unit).order_by(Unit.id.desc()).limit(1)).one()
    url = f"/api/layers/units/features/{unit.id}"
    moved = {"type": "Point", "coordinates": [116.3975, 39.9087]}
    response = client.patch(url, json={"geometry": moved, "properties": {"name": "新名称"}},
                            headers={**admin, "If-Match": f'"{unit.version}"'})  # fmt: skip
    assert response.status_code == 200, response.text
    with session_factory() as session:
        record = session.scalars(
            select(AuditRecord).where(AuditRecord.action == "units.update",
                                      AuditRecord.target_id == str(unit.id))
        ).one()  # fmt: skip
        event = session.scalars(
            select(Event).where(
                Event.layer == "units", Event.feature_id == unit.id, Event.type == "feature.updated"
            )
        ).one()
        bbox = session.scalar(select(func.ST_AsText(Event.bbox)).where(Event.id == event.id))
        assert verify_audit_chain(session) is None
    assert record.before is not None and record.after is not None
    assert record.before["properties"]["name"] == unit.name
    assert record.after["properties"]["name"] == "新名称"
    assert record.after["geometry"]["coordinates"] == [116.3975, 39.9087]
    assert event.payload["version"] == unit.version + 1
    assert "116.3975 39.9087" in bbox  # the new position is inside the event's box


def test_invalid_patch_gets_a_precise_error_and_changes_nothing(
    client: TestClient, admin: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        unit = session.scalars(select(Unit).order_by(Unit.id).offset(5).limit(1)).one()
    url = f"/api/layers/units/features/{unit.id}"
    headers = {**admin, "If-Match": f'"{unit.version}"'}
    cases = [
        ({"properties": {"risk_level": 9}}, "risk_level: must be at most 4"),
        ({"properties": {"colour": "red"}}, "colour: unknown attribute"),
        ({"geometry": {"type": "Point", "coordinates": [2.35, 48.85]}}, "China"),
        ({"geometry": {"type": "Polygon", "coordinates": [[[116, 39], [117, 40], [116, 39]]]}},
         "stores Point"),
        ({"geometry": {"type": "Point", "coordinates": ["a"]}}, "must be a position [lon, lat]"),
    ]  # fmt: skip
    for body, message in cases:
        response = client.patch(url, json=body, headers=headers)
        assert response.status_code == 422, (body, response.text)
        assert message in response.json()["detail"], response.json()
    assert client.get(url, headers=admin).headers["etag"] == f'"{unit.version}"'


def test_unknown_layer_and_id_are_404(client: TestClient, admin: dict[str, str]) -> None:
    response = client.get("/api/layers/nope/features/1", headers=admin)
    assert response.status_code == 404 and "known layers" in response.json()["detail"]
    response = client.get("/api/layers/units/features/987654321", headers=admin)
    assert response.status_code == 404


def test_officer_is_limited_to_his_precinct(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        precinct = session.scalars(select(Precinct).order_by(Precinct.id).limit(1)).one()
        mine = session.scalars(select(Unit).where(Unit.precinct_id == precinct.id).limit(1)).one()
        other = _unit_in_other_precinct(session, precinct.id)
    officer = make_user(session_factory, Role.OFFICER, Jurisdiction(precinct_code=precinct.code))
    headers = bearer(client, officer)
    assert client.get(f"/api/layers/units/features/{mine.id}", headers=headers).status_code == 200
    response = client.get(f"/api/layers/units/features/{other.id}", headers=headers)
    assert response.status_code == 404  # as if absent: ids elsewhere cannot be enumerated
    assert "that you may see" in response.json()["detail"]
    # Moving his own unit out of his precinct is refused too, and audited as denied.
    with session_factory() as session:
        lon, lat = session.execute(
            select(func.ST_X(Unit.geom), func.ST_Y(Unit.geom)).where(Unit.id == other.id)
        ).one()
    move = {"geometry": {"type": "Point", "coordinates": [lon, lat]}}
    response = client.patch(f"/api/layers/units/features/{mine.id}", json=move,
                            headers={**headers, "If-Match": f'"{mine.version}"'})  # fmt: skip
    assert response.status_code == 403
    with session_factory() as session:
        assert session.get(Unit, mine.id).version == mine.version  # type: ignore[union-attr]
        denied = session.scalars(
            select(AuditRecord.result).where(AuditRecord.action == "units.update",
                                             AuditRecord.target_id == str(mine.id))
        ).all()  # fmt: skip
    assert denied == ["denied"]


def test_unit_user_sees_only_its_own_unit(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        own, other = session.scalars(select(Unit).order_by(Unit.id).limit(2)).all()
        station_id = session.scalar(select(func.min(RailStation.id)))
    headers = bearer(client, make_user(session_factory, Role.UNIT, Jurisdiction(unit_id=own.id)))
    assert client.get(f"/api/layers/units/features/{own.id}", headers=headers).status_code == 200
    assert client.get(f"/api/layers/units/features/{other.id}", headers=headers).status_code == 404
    station = client.get(f"/api/layers/rail_stations/features/{station_id}", headers=headers)
    assert station.status_code == 404
    layers = {
        layer["id"]: layer for layer in client.get("/api/layers", headers=headers).json()["data"]
    }
    assert layers["units"]["count"] == 1
    assert layers["rail_stations"]["count"] == 0


def test_auditor_cannot_read_features(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    headers = bearer(client, make_user(session_factory, Role.AUDITOR))
    response = client.get("/api/layers/units/features/1", headers=headers)
    assert response.status_code == 403
    assert "may not features:read" in response.json()["detail"]


def test_duplicate_external_id_is_409(
    client: TestClient, admin: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        taken = session.scalars(
            select(Unit.external_id).where(Unit.external_id.is_not(None)).limit(1)
        ).one()
    body = {"type": "Feature", "external_id": taken, "properties": SAMPLE_PROPERTIES["units"],
            "geometry": {"type": "Point", "coordinates": [116.40, 39.91]}}  # fmt: skip
    response = client.post("/api/layers/units/features", json=body, headers=admin)
    assert response.status_code == 409, response.text
    assert "already has a feature" in response.json()["detail"]
