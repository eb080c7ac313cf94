"""Tourism over HTTP: a park's points and relations, counter batches stored once whatever
their order, occupancy never below zero (the shortfall shown), alerts once per level
crossing with hysteresis and in the event log, levels per park, bad batches refused
whole, and who may do what where."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import h3
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from layers.accounts.roles import Role
from layers.accounts.service import Jurisdiction
from layers.features.models import District, Precinct, RailStation
from layers.settings import Settings, TourismSettings
from tests.utils.users import bearer, make_user

HALF_DEG = 0.002  # a park of about 340 x 440 m


class Cast:
    """A tourism user, a commander, a planner, an officer of the park's precinct and one of
    another, and a new park of capacity 100 (daily 300) beside a rail station."""

    def __init__(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        with factory() as session:
            station = session.execute(
                select(RailStation.id, func.ST_X(RailStation.geom), func.ST_Y(RailStation.geom),
                       RailStation.precinct_id)
                .where(RailStation.precinct_id.is_not(None)).order_by(RailStation.id).limit(1)
            ).one()  # fmt: skip
            self.station_id, lon, lat, precinct_id = station
            here = session.get(Precinct, precinct_id)
            far = session.scalars(select(Precinct).where(Precinct.id != precinct_id)
                                  .order_by(Precinct.id)).first()  # fmt: skip
            assert here is not None and far is not None
        self.tourism = bearer(client, make_user(factory, Role.TOURISM))
        self.commander = bearer(client, make_user(factory, Role.COMMANDER))
        self.planner = bearer(client, make_user(factory, Role.PLANNER))
        self.officer = bearer(client, make_user(factory, Role.OFFICER,
                                                Jurisdiction(precinct_code=here.code)))  # fmt: skip
        self.stranger = bearer(client, make_user(factory, Role.OFFICER,
                                                 Jurisdiction(precinct_code=far.code)))  # fmt: skip
        # the park's west edge 100 m east of the station
        west = lon + 100 / 85_000
        self.centre = (west + HALF_DEG, lat)
        square = [[west, lat - HALF_DEG], [west + 2 * HALF_DEG, lat - HALF_DEG],
                  [west + 2 * HALF_DEG, lat + HALF_DEG], [west, lat + HALF_DEG],
                  [west, lat - HALF_DEG]]  # fmt: skip
        made = client.post("/api/layers/parks/features", headers=self.commander, json={
            "type": "Feature", "geometry": {"type": "Polygon", "coordinates": [square]},
            "properties": {"name": f"测试公园{uuid.uuid4().hex[:6]}", "kind": "park",
                           "capacity": 100, "daily_capacity": 300, "grade": "4A"},
        })  # fmt: skip
        assert made.status_code == 201, made.text
        self.park_id: int = made.json()["id"]
        self.west = west
        self.lat = lat


def noon_zone() -> str:
    """Return a time zone where it is about noon now: a local day does not end mid-test."""
    offset = 12 - datetime.now(UTC).hour  # -11..12; Etc/GMT names count the other way
    return f"Etc/GMT{-offset:+d}" if offset else "Etc/GMT"


@pytest.fixture(scope="module")
def zoned(settings: Settings) -> Settings:
    """The test settings in a zone where it is about noon."""
    return settings.model_copy(update={"timezone": noon_zone()})


@pytest.fixture(scope="module")
def app(zoned: Settings, client: TestClient) -> Iterator[TestClient]:
    """An app of the test database whose bureau lives where it is about noon."""
    with TestClient(create_app(zoned)) as app:
        yield app


@pytest.fixture(scope="module")
def cast(app: TestClient, session_factory: sessionmaker[Session]) -> Cast:
    """The people and park of this module."""
    return Cast(app, session_factory)


def _gate(client: TestClient, cast: Cast, kind: str = "gate", counts: bool = True) -> str:
    code = f"T-{uuid.uuid4().hex[:8]}"
    made = client.post("/api/tourism/points", headers=cast.tourism, json={
        "park_id": cast.park_id, "code": code, "name": f"{code}号门", "kind": kind,
        "counts": counts, "lon": cast.west, "lat": cast.lat,
    })  # fmt: skip
    assert made.status_code == 201, made.text
    return code


def _post(client: TestClient, headers: dict[str, str], readings: list[dict[str, Any]]) -> Any:
    return client.post("/api/tourism/counts", headers=headers, json={"readings": readings})


def _reading(code: str, minutes_ago: float, entered: int, exited: int = 0) -> dict[str, Any]:
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=minutes_ago)
    return {"point": code, "at": at.isoformat(), "in": entered, "out": exited}


def _park(client: TestClient, headers: dict[str, str], park_id: int) -> dict[str, Any] | None:
    answer = client.get("/api/tourism/occupancy", headers=headers)
    assert answer.status_code == 200, answer.text
    return next((p for p in answer.json()["data"] if p["park_id"] == park_id), None)


def test_points_and_relations(app: TestClient, cast: Cast) -> None:
    code = _gate(app, cast)
    listed = app.get(f"/api/tourism/points?park_id={cast.park_id}", headers=cast.officer)
    assert listed.status_code == 200
    assert code in {f["properties"]["code"] for f in listed.json()["features"]}
    # too far from the park, a code taken, a role without tourism:write
    far = app.post("/api/tourism/points", headers=cast.tourism, json={
        "park_id": cast.park_id, "code": "T-far", "name": "远", "kind": "gate",
        "lon": cast.west + 0.05, "lat": cast.lat,
    })  # fmt: skip
    assert far.status_code == 422 and "300 m" in far.json()["detail"]
    again = app.post("/api/tourism/points", headers=cast.tourism, json={
        "park_id": cast.park_id, "code": code, "name": "重", "kind": "gate",
        "lon": cast.west, "lat": cast.lat,
    })  # fmt: skip
    assert again.status_code == 409
    assert app.post("/api/tourism/points", headers=cast.planner, json={}).status_code == 403

    base = f"/api/tourism/parks/{cast.park_id}/relations"
    computed = app.post(f"{base}/compute", headers=cast.tourism)
    assert computed.status_code == 200 and computed.json()["made"] >= 1

    def related() -> dict[tuple[str, int], dict[str, Any]]:
        answer = app.get(base, headers=cast.tourism)
        assert answer.status_code == 200
        return {(r["layer"], r["feature_id"]): r for r in answer.json()["data"]}

    station = ("rail_stations", cast.station_id)
    assert related()[station]["source"] == "computed"
    assert 50 < related()[station]["distance_m"] < 150
    assert any(r["source"] == "gate" and r["name"] == f"{code}号门" for r in related().values())
    assert app.delete(f"{base}/rail_stations/{cast.station_id}",
                         headers=cast.tourism).status_code == 204  # fmt: skip
    app.post(f"{base}/compute", headers=cast.tourism)
    assert station not in related()  # removed by hand: the computation keeps it out
    back = app.post(
        base, headers=cast.tourism, json={"layer": "rail_stations", "feature_id": cast.station_id}
    )
    assert back.status_code == 204 and station in related()
    assert app.get(base, headers=cast.stranger).status_code == 404


def test_counts_once_in_any_order_never_below_zero(app: TestClient, cast: Cast) -> None:
    gate, camera = _gate(app, cast), _gate(app, cast, "camera", counts=False)
    before = _park(app, cast.tourism, cast.park_id)
    assert before is not None
    batch = [_reading(gate, 20, 10, 2), _reading(gate, 10, 5, 1), _reading(camera, 10, 99, 0)]
    first = _post(app, cast.tourism, batch)
    assert first.status_code == 200, first.text
    assert first.json()["stored"] == 3 and cast.park_id in first.json()["parks"]
    resent = _post(app, cast.tourism, batch)
    assert resent.json()["received"] == 3 and resent.json()["stored"] == 0
    # late and out of order: an older reading after newer ones counts the same
    assert _post(app, cast.tourism, [_reading(gate, 30, 4, 0)]).json()["stored"] == 1
    # a reading twice in one batch, beside a resent one: the first of the two counts, once
    late = _reading(gate, 40, 2, 0)
    twice = [late, {**late, "in": 9, "out": 9}, batch[0]]
    assert _post(app, cast.tourism, twice).json()["stored"] == 1
    now = _park(app, cast.tourism, cast.park_id)
    assert now is not None
    assert now["entered"] - before["entered"] == 21  # the camera does not count
    assert now["exited"] - before["exited"] == 3
    curve = app.get(f"/api/tourism/parks/{cast.park_id}/occupancy", headers=cast.officer)
    assert curve.status_code == 200, curve.text
    body = curve.json()
    assert body["visitors"][-1] == now["visitors"]
    assert body["visitors"] == sorted(body["visitors"])  # only arrivals so far: rising
    # exits beyond entries: shown as a shortfall beside zero, never a negative occupancy
    _post(app, cast.tourism, [_reading(gate, 1, 0, now["visitors"] + 7)])
    short = _park(app, cast.tourism, cast.park_id)
    assert short is not None and short["visitors"] == 0 and short["deficit"] == 7
    curve = app.get(f"/api/tourism/parks/{cast.park_id}/occupancy", headers=cast.tourism)
    assert curve.json()["short"][-1] is True and curve.json()["visitors"][-1] == 0
    # even the shortfall evens out again
    _post(app, cast.tourism, [_reading(gate, 0.5, 7, 0)])
    level = _park(app, cast.tourism, cast.park_id)
    assert level is not None and level["visitors"] == 0 and level["deficit"] == 0


def _alerts(app: TestClient, cast: Cast) -> list[dict[str, Any]]:
    answer = app.get(f"/api/tourism/alerts?park_id={cast.park_id}", headers=cast.officer)
    assert answer.status_code == 200
    return list(reversed(answer.json()["data"]))


def test_one_alert_per_crossing_with_hysteresis(app: TestClient, cast: Cast) -> None:
    gate = _gate(app, cast)
    start = _park(app, cast.tourism, cast.park_id)
    assert start is not None and start["level"] == "normal"
    seen = len(_alerts(app, cast))
    minute = [15.0]

    def inside(target: int) -> None:
        park = _park(app, cast.tourism, cast.park_id)
        assert park is not None
        change = target - park["visitors"]
        minute[0] -= 0.1
        answer = _post(
            app, cast.tourism, [_reading(gate, minute[0], max(change, 0), max(-change, 0))]
        )
        assert answer.status_code == 200, answer.text

    for target in (50, 81, 79, 82, 78, 96, 91, 85, 70):
        inside(target)
    crossings = [(a["basis"], a["previous"], a["level"]) for a in _alerts(app, cast)[seen:]]
    # 81 yellow; 79 and 78 stay yellow (above 80 - 5); 96 red; 91 stays red (above 90);
    # 85 falls to orange (85 is 90 - 5); 70 back to normal
    instant = [c[1:] for c in crossings if c[0] == "instant"]
    assert instant == [("normal", "yellow"), ("yellow", "red"), ("red", "orange"),
                       ("orange", "normal")]  # fmt: skip
    # the events went through the event log, seen by the park's officer, not by another's
    since = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()

    def events(headers: dict[str, str]) -> list[dict[str, Any]]:
        answer = app.get("/api/events", headers=headers, params={"from": since})
        assert answer.status_code == 200, answer.text
        return [e for e in answer.json()["data"] if e["type"] == "tourism.alert"
                and e["feature_id"] == cast.park_id]  # fmt: skip

    levels = [e["payload"]["level"] for e in events(cast.officer)
              if e["payload"]["basis"] == "instant"]  # fmt: skip
    assert levels[-4:] == ["yellow", "red", "orange", "normal"]
    assert events(cast.stranger) == []


def test_levels_per_park(app: TestClient, cast: Cast) -> None:
    path = f"/api/tourism/parks/{cast.park_id}/levels"
    read = app.get(path, headers=cast.tourism)
    assert read.status_code == 200
    version = read.headers["ETag"]
    body = {"yellow": 70, "orange": 85, "red": 92, "stop": 100}
    assert app.put(path, headers=cast.tourism, json=body).status_code == 428
    put = app.put(path, headers={**cast.tourism, "If-Match": version}, json=body)
    assert put.status_code == 200, put.text
    assert put.json()["yellow"] == 70
    stale = app.put(path, headers={**cast.tourism, "If-Match": version}, json=body)
    assert stale.status_code == 412
    falling = {"yellow": 90, "orange": 85, "red": 92, "stop": 100}
    bad = app.put(path, headers={**cast.tourism, "If-Match": put.headers["ETag"]},
                     json=falling)  # fmt: skip
    assert bad.status_code == 422
    park = _park(app, cast.officer, cast.park_id)
    assert park is not None and park["levels"]["yellow"] == 70
    assert app.put(path, headers=cast.officer, json=body).status_code == 403


@pytest.fixture(scope="module")
def small(zoned: Settings, app: TestClient) -> Iterator[TestClient]:
    """An app whose batches hold 3 readings of at most 500 visitors."""
    tourism = TourismSettings(max_batch=3, max_count=500)
    with TestClient(create_app(zoned.model_copy(update={"tourism": tourism}))) as small:
        yield small


def test_bad_batches_are_refused_whole(small: TestClient, cast: Cast) -> None:
    gate = _gate(small, cast)
    before = _park(small, cast.tourism, cast.park_id)
    assert before is not None
    future = _reading(gate, -60, 1)
    cases = [
        ([_reading(gate, 3, 1), _reading("T-nowhere", 3, 1)], 422, "unknown points"),
        ([_reading(gate, 3, 1), future], 422, "lies in the future"),
        ([_reading(gate, 3, 501)], 422, "in must be 0..500"),
        ([_reading(gate, 3, -1)], 422, "readings"),
        ([_reading(gate, 3, 1)] * 4, 413, "at most 3 readings"),
        ([], 422, "readings"),
    ]
    for readings, status, said in cases:
        answer = _post(small, cast.tourism, readings)
        assert answer.status_code == status, (said, answer.text)
        assert said in answer.text
    old = {"point": gate, "at": "2020-01-01T00:00:00+08:00", "in": 1, "out": 0}
    assert "older than the retention" in _post(small, cast.tourism, [old]).text
    after = _park(small, cast.tourism, cast.park_id)
    assert after is not None and after["entered"] == before["entered"]
    # a point of a park outside the officer's precinct is unknown to them
    assert _post(small, cast.stranger, [_reading(gate, 3, 1)]).status_code == 403
    assert _park(small, cast.stranger, cast.park_id) is None


def test_flows_as_arcs(app: TestClient, cast: Cast, session_factory: sessionmaker[Session]
                       ) -> None:  # fmt: skip
    with session_factory() as session:
        district = session.scalars(select(District.code).order_by(District.id)).first()
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    cell = h3.latlng_to_cell(cast.lat, cast.west - 0.05, 8)

    def row(kind: str, origin: str, volume: int, at: datetime = hour) -> dict[str, Any]:
        return {"origin_kind": kind, "origin": origin, "park_id": cast.park_id,
                "at": at.isoformat(), "volume": volume}  # fmt: skip

    rows = [
        row("h3", cell, 100),
        row("h3", cell, 50, hour + timedelta(hours=1)),
        row("district", str(district), 30),
        row("rail_station", str(cast.station_id), 70),
    ]
    stored = app.post("/api/tourism/flows", headers=cast.tourism, json={"flows": rows})
    assert stored.status_code == 200, stored.text
    resent = [row("h3", cell, 120)]  # replaces the first hour's volume
    assert app.post("/api/tourism/flows", headers=cast.tourism, json={"flows": resent}).json() == {
        "stored": 1}  # fmt: skip
    bad = app.post(
        "/api/tourism/flows",
        headers=cast.tourism,
        json={"flows": [row("district", "NOPE", 1), row("h3", "zz", 1)]},
    )
    assert bad.status_code == 422 and "2 of the 2 rows" in bad.json()["detail"]
    window = {"since": (hour - timedelta(minutes=1)).isoformat(),
              "until": (hour + timedelta(hours=2)).isoformat()}  # fmt: skip
    answer = app.get("/api/tourism/flows", headers=cast.officer, params=window)
    assert answer.status_code == 200, answer.text
    mine = [f for f in answer.json()["features"] if f["properties"]["park_id"] == cast.park_id
            and f["properties"]["source"] == "ingested"]  # fmt: skip
    volumes = {(f["properties"]["origin_kind"]): f["properties"]["volume"] for f in mine}
    assert volumes == {"h3": 170, "rail_station": 70, "district": 30}
    arc = next(f for f in mine if f["properties"]["origin_kind"] == "h3")
    (x0, _), (x1, _) = arc["geometry"]["coordinates"]
    assert x0 < cast.west < x1 < cast.west + 2 * HALF_DEG  # from the cell west into the park
    stranger = app.get("/api/tourism/flows", headers=cast.stranger, params=window)
    assert all(f["properties"]["park_id"] != cast.park_id for f in stranger.json()["features"])
    backwards = {"since": window["until"], "until": window["since"]}
    assert app.get("/api/tourism/flows", headers=cast.officer, params=backwards).status_code == 422


def _bus(app: TestClient, cast: Cast, where: tuple[float, float]) -> int:
    plate = f"京B{uuid.uuid4().hex[:6].upper()}"
    made = app.post("/api/layers/vehicles/features", headers=cast.commander, json={
        "geometry": {"type": "Point", "coordinates": list(where)},
        "properties": {"name": f"旅游大巴{plate[-4:]}", "plate": plate, "kind": "tour_bus"},
    })  # fmt: skip
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def _free_place(factory: sessionmaker[Session], lon: float, lat: float) -> tuple[float, float]:
    """Return the first place north of (lon, lat), 0.01 degrees a step, with no park near."""
    with factory() as session:
        for step in range(100):
            here = (lon, lat + step * 0.01)
            near = session.scalar(
                text(
                    "SELECT EXISTS (SELECT FROM parks WHERE ST_DWithin(geom, "
                    "ST_SetSRID(ST_MakePoint(:x, :y), 4326), 0.005))"
                ),
                {"x": here[0], "y": here[1]},
            )
            if not near:
                return here
    raise AssertionError("no place free of parks")


def test_flows_derived_from_tour_buses_and_station_exits(
    app: TestClient, cast: Cast, session_factory: sessionmaker[Session]
) -> None:
    # hours ago, out of the other tests' way: a bus from the west stays in the cast's park;
    # another stays in a second park first; a third passes through; the station next door
    # lets 1,000 people out in the hour the park's gate counts 60 coming in
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=5)
    west = _free_place(session_factory, cast.west - 0.05, cast.lat)
    ox, oy = _free_place(session_factory, cast.west, cast.lat + 0.02)
    square = [[ox, oy], [ox + 0.003, oy], [ox + 0.003, oy + 0.003], [ox, oy + 0.003], [ox, oy]]
    other = app.post("/api/layers/parks/features", headers=cast.commander, json={
        "type": "Feature", "geometry": {"type": "Polygon", "coordinates": [square]},
        "properties": {"name": f"测试公园{uuid.uuid4().hex[:6]}", "kind": "park", "capacity": 500},
    }).json()["id"]  # fmt: skip
    inside = (ox + 0.0015, oy + 0.0015)
    from_west, from_other, passing = (_bus(app, cast, cast.centre) for _ in range(3))

    def track(bus: int, where: tuple[float, float], minutes: range) -> list[dict[str, Any]]:
        return [{"vehicle_id": bus, "at": (hour + timedelta(minutes=m)).isoformat(),
                 "lon": where[0], "lat": where[1]} for m in minutes]  # fmt: skip

    positions = [
        *track(from_west, west, range(0, 1)),
        *track(from_west, cast.centre, range(15, 45, 5)),
        *track(from_other, inside, range(0, 30, 5)),
        *track(from_other, cast.centre, range(40, 70, 5)),
        *track(passing, west, range(0, 1)),
        *track(passing, cast.centre, range(15, 25, 5)),
    ]
    posted = app.post("/api/tracks", headers=cast.commander, json={"positions": positions})
    assert posted.status_code == 200, posted.text
    base = f"/api/tourism/parks/{cast.park_id}/relations"
    assert app.post(f"{base}/compute", headers=cast.tourism).status_code == 200
    gate = _gate(app, cast)
    at = (hour + timedelta(minutes=30)).isoformat()
    counted = _post(app, cast.tourism, [{"point": gate, "at": at, "in": 60, "out": 0}])
    assert counted.status_code == 200, counted.text
    exits = {"exits": [{"station_id": cast.station_id, "at": at, "exits": 1000}]}
    assert (
        app.post("/api/tourism/station-exits", headers=cast.officer, json=exits).status_code == 403
    )
    stored = app.post("/api/tourism/station-exits", headers=cast.tourism, json=exits)
    assert stored.status_code == 200 and stored.json() == {"stored": 1}, stored.text
    missing = {"exits": [{"station_id": 2**62, "at": at, "exits": 1}]}
    assert app.post("/api/tourism/station-exits", headers=cast.tourism,
                    json=missing).status_code == 422  # fmt: skip

    window = {"since": hour.isoformat(), "until": (hour + timedelta(hours=2)).isoformat()}
    answer = app.get("/api/tourism/flows", headers=cast.officer, params=window)
    assert answer.status_code == 200, answer.text
    derived = {
        (p["origin_kind"], p["origin"]): p["volume"]
        for f in answer.json()["features"]
        if (p := f["properties"])["park_id"] == cast.park_id and p["source"] == "derived"
    }
    cell = h3.latlng_to_cell(west[1], west[0], 8)
    # a bus each from the west and from the other park (40 visitors a bus); the station's
    # exits, shared among the parks it feeds, at most what the park's gate counted
    assert derived == {("h3", cell): 40, ("park", str(other)): 40,
                       ("rail_station", str(cast.station_id)): 60}, derived  # fmt: skip
    later = {"since": (hour + timedelta(hours=2)).isoformat(),
             "until": (hour + timedelta(hours=3)).isoformat()}  # fmt: skip
    assert not [f for f in app.get("/api/tourism/flows", headers=cast.officer, params=later)
                .json()["features"] if f["properties"]["park_id"] == cast.park_id]  # fmt: skip


def test_vehicles_registered_and_inferred(app: TestClient, cast: Cast) -> None:
    def bus(where: tuple[float, float]) -> int:
        return _bus(app, cast, where)

    dwelling, passing, registered = bus(cast.centre), bus(cast.centre), bus(cast.centre)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=40)
    inside = [
        {
            "vehicle_id": dwelling,
            "at": (start + timedelta(minutes=m)).isoformat(),
            "lon": cast.centre[0],
            "lat": cast.centre[1],
        }
        for m in range(0, 30, 5)
    ]
    through = [{"vehicle_id": passing, "at": (start + timedelta(minutes=m)).isoformat(),
                "lon": cast.centre[0], "lat": cast.centre[1]} for m in (0, 5)]  # fmt: skip
    posted = app.post("/api/tracks", headers=cast.commander,
                      json={"positions": inside + through})  # fmt: skip
    assert posted.status_code == 200, posted.text
    assert app.post("/api/tourism/vehicles/infer", headers=cast.officer).status_code == 403
    inferred = app.post("/api/tourism/vehicles/infer", headers=cast.tourism)
    assert inferred.status_code == 200 and inferred.json()["made"] >= 1
    path = f"/api/tourism/parks/{cast.park_id}/vehicles"
    assert app.post(path, headers=cast.tourism,
                    json={"vehicle_id": registered}).status_code == 204  # fmt: skip
    listed = app.get(path, headers=cast.officer)
    assert listed.status_code == 200
    ties = {v["vehicle_id"]: v for v in listed.json()["data"]}
    assert ties[dwelling]["source"] == "inferred" and ties[registered]["source"] == "registered"
    assert passing not in ties  # ten minutes in the park is no dwell
    assert ties[dwelling]["lon"] == pytest.approx(cast.centre[0])
    counts = app.get("/api/tourism/vehicles", headers=cast.officer).json()
    assert counts[str(cast.park_id)] == 2
    assert app.delete(f"{path}/{registered}", headers=cast.tourism).status_code == 204
    assert app.delete(f"{path}/{registered}", headers=cast.tourism).status_code == 404
    assert app.get(path, headers=cast.stranger).status_code == 404


def test_activities_and_topic_maps(app: TestClient, cast: Cast,
                                   session_factory: sessionmaker[Session]) -> None:  # fmt: skip
    start = datetime(2027, 1, 28, 9, tzinfo=UTC)
    body = {"park_id": cast.park_id, "name": "春节庙会", "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=8)).isoformat(), "expected": 150}  # fmt: skip
    made = app.post("/api/tourism/activities", headers=cast.tourism, json=body)
    assert made.status_code == 201, made.text
    assert made.json()["expected_ratio"] == pytest.approx(0.5)  # of 300 a day
    backwards = {**body, "ends_at": body["starts_at"]}
    assert app.post("/api/tourism/activities", headers=cast.tourism,
                    json=backwards).status_code == 422  # fmt: skip
    window = {"since": start.isoformat(), "until": (start + timedelta(days=1)).isoformat()}
    listed = app.get("/api/tourism/activities", headers=cast.officer, params=window).json()
    assert made.json()["id"] in {a["id"] for a in listed["data"]}
    hidden = app.get("/api/tourism/activities", headers=cast.stranger, params=window).json()
    assert made.json()["id"] not in {a["id"] for a in hidden["data"]}
    gone = app.delete(f"/api/tourism/activities/{made.json()['id']}",
                      headers={**cast.tourism, "If-Match": '"1"'})  # fmt: skip
    assert gone.status_code == 204

    name = f"节日专题{uuid.uuid4().hex[:6]}"
    config = {"layers": ["parks", "rail_stations", "occupancy", "flows"],
              "filters": {"parks": {"grade": "5A"}},
              "view": {"center": list(cast.centre), "zoom": 13}}  # fmt: skip
    saved = app.post("/api/tourism/maps", headers=cast.tourism,
                     json={"name": name, "config": config})  # fmt: skip
    assert saved.status_code == 201, saved.text
    map_id, etag = saved.json()["id"], saved.headers["ETag"]
    colleague = bearer(app, make_user(session_factory, Role.TOURISM))
    opened = app.get(f"/api/tourism/maps/{map_id}", headers=colleague)
    assert opened.status_code == 200 and opened.json()["config"] == config
    wrong = {**config, "layers": ["parks", "nowhere"]}
    assert app.post("/api/tourism/maps", headers=cast.tourism,
                    json={"name": name + "x", "config": wrong}).status_code == 422  # fmt: skip
    assert app.post("/api/tourism/maps", headers=colleague,
                    json={"name": name, "config": config}).status_code == 409  # fmt: skip
    private = {"name": name, "config": config, "shared": False}
    changed = app.put(f"/api/tourism/maps/{map_id}", headers={**cast.tourism, "If-Match": etag},
                      json=private)  # fmt: skip
    assert changed.status_code == 200 and changed.json()["version"] == 2
    assert app.put(f"/api/tourism/maps/{map_id}", headers={**cast.tourism, "If-Match": etag},
                   json=private).status_code == 412  # fmt: skip
    assert app.get(f"/api/tourism/maps/{map_id}", headers=colleague).status_code == 404
    assert map_id in {m["id"] for m in app.get("/api/tourism/maps",
                                                headers=cast.tourism).json()["data"]}  # fmt: skip
