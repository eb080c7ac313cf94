"""Vehicle tracks over HTTP: batches stored once and in time order, the vehicle at its newest
position (version, tiles), lines for a window, who may post and read, bad batches refused
whole, old days pruned."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import mapbox_vector_tile
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from api.app import create_app
from api.cli.main import app as cli
from geo.tiling import lonlat_to_tile
from layers.accounts.roles import Role
from layers.accounts.service import Jurisdiction
from layers.audit.models import AuditRecord
from layers.features.models import Precinct
from layers.settings import Settings, TrackSettings
from layers.tracks.partitions import partition_days
from tests.utils.perimeters import busy_place
from tests.utils.tracks import east_of, new_vehicle, positions, post
from tests.utils.users import bearer, make_user


class Cast:
    """A feed (a commander's account), an officer of the busy precinct and one far away, a
    tourism user, and the busy place."""

    def __init__(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        with factory() as session:
            self.precinct, self.centre = busy_place(session)
            far = session.scalars(select(Precinct).where(Precinct.id != self.precinct.id)
                                  .order_by(Precinct.id)).first()  # fmt: skip
            assert far is not None
        self.feed = bearer(client, make_user(factory, Role.COMMANDER))
        self.officer_name = make_user(factory, Role.OFFICER,
                                      Jurisdiction(precinct_code=self.precinct.code))  # fmt: skip
        self.officer = bearer(client, self.officer_name)
        self.stranger = bearer(client, make_user(factory, Role.OFFICER,
                                                 Jurisdiction(precinct_code=far.code)))  # fmt: skip
        self.tourism = bearer(client, make_user(factory, Role.TOURISM))


@pytest.fixture(scope="module")
def cast(client: TestClient, session_factory: sessionmaker[Session]) -> Cast:
    """The people and place of this module."""
    return Cast(client, session_factory)


@pytest.fixture(scope="module")
def small(settings: Settings, client: TestClient) -> Iterator[TestClient]:
    """An app whose batches hold 300 positions and whose lines show about 20."""
    tracks = TrackSettings(max_batch=300, line_max_points=20)
    with TestClient(create_app(settings.model_copy(update={"tracks": tracks}))) as small:
        yield small


def _route(cast: Cast, count: int, from_m: float = 0.0, step_m: float = 30.0) -> list[Any]:
    # 100 m north of the busy place's middle: a street of the precinct
    return [east_of(cast.centre, from_m + i * step_m, 100.0) for i in range(count)]


def _track(client: TestClient, headers: dict[str, str], vehicle: int, since: datetime,
           until: datetime, **params: str) -> Any:  # fmt: skip
    response = client.get(f"/api/vehicles/{vehicle}/track", headers=headers, params={
        "since": since.isoformat(), "until": until.isoformat(), **params})  # fmt: skip
    assert response.status_code == 200, response.text
    return response.json()


def _flat(coordinates: list[list[float]]) -> list[float]:
    return [number for pair in coordinates for number in pair]


def _lonlats(batch: list[dict[str, Any]]) -> list[float]:
    return [number for p in batch for number in (p["lon"], p["lat"])]


def _feature(client: TestClient, headers: dict[str, str], vehicle: int) -> Any:
    response = client.get(f"/api/layers/vehicles/features/{vehicle}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_batch_moves_the_vehicle_to_its_newest_position_and_a_resend_is_a_no_op(
    client: TestClient, cast: Cast
) -> None:
    vehicle = new_vehicle(client, cast.feed, east_of(cast.centre, -500.0))
    start = datetime.now(UTC) - timedelta(minutes=20)
    drive = positions(vehicle, _route(cast, 10), start)
    shuffled = random.Random(3).sample(drive, len(drive))
    stored = post(client, cast.feed, shuffled)
    stored.pop("alert_ids")  # other modules' perimeters may stand here: test_geofence counts
    assert stored == {"received": 10, "stored": 10, "vehicles": 1, "moved": 1}
    moved = _feature(client, cast.feed, vehicle)
    assert moved["geometry"]["coordinates"] == pytest.approx([drive[-1]["lon"], drive[-1]["lat"]])
    assert datetime.fromisoformat(moved["properties"]["position_at"]) == datetime.fromisoformat(
        drive[-1]["at"])  # fmt: skip
    assert moved["properties"]["version"] == 2
    assert moved["properties"]["precinct_id"] == cast.precinct.id

    again = post(client, cast.feed, shuffled)
    assert (again["stored"], again["moved"]) == (0, 0)
    assert _feature(client, cast.feed, vehicle)["properties"]["version"] == 2
    line = _track(client, cast.officer, vehicle, start, start + timedelta(minutes=5))
    assert line["geometry"]["type"] == "LineString"
    assert _flat(line["geometry"]["coordinates"]) == pytest.approx(_lonlats(drive))
    times = [datetime.fromisoformat(t) for t in line["properties"]["times"]]
    assert times == [datetime.fromisoformat(p["at"]) for p in drive]
    assert line["properties"]["positions"] == 10 and not line["properties"]["thinned"]
    # a batch resending some positions (one new one twice) stores only the new, once each
    later = positions(vehicle, _route(cast, 2, from_m=600.0), start + timedelta(minutes=6))
    mixed = post(client, cast.feed, [drive[2], later[0], drive[7], later[1], later[0]])
    assert (mixed["stored"], mixed["moved"]) == (2, 1)
    assert _feature(client, cast.feed, vehicle)["properties"]["version"] == 3


def test_late_positions_are_kept_in_time_order_but_do_not_move_the_vehicle(
    client: TestClient, cast: Cast
) -> None:
    vehicle = new_vehicle(client, cast.feed, east_of(cast.centre, -500.0))
    start = datetime.now(UTC) - timedelta(minutes=40)
    drive = positions(vehicle, _route(cast, 10), start)
    later = positions(vehicle, _route(cast, 3, from_m=600.0), start + timedelta(minutes=15))
    assert post(client, cast.feed, drive[5:] + later)["moved"] == 1
    late = post(client, cast.feed, drive[:5])
    assert (late["stored"], late["moved"]) == (5, 0)
    last = later[-1]
    assert _feature(client, cast.feed, vehicle)["geometry"]["coordinates"] == pytest.approx(
        [last["lon"], last["lat"]])  # fmt: skip
    # ten minutes without a position (the default gap is five) parts the line in two
    line = _track(client, cast.feed, vehicle, start, start + timedelta(minutes=30))
    assert line["geometry"]["type"] == "MultiLineString"
    first, second = line["geometry"]["coordinates"]
    assert _flat(first) == pytest.approx(_lonlats(drive))
    assert _flat(second) == pytest.approx(_lonlats(later))
    assert [len(t) for t in line["properties"]["times"]] == [10, 3]


def test_a_long_window_is_thinned_evenly_keeping_its_ends(
    small: TestClient, cast: Cast, session_factory: sessionmaker[Session]
) -> None:
    feed = bearer(small, make_user(session_factory, Role.COMMANDER))
    vehicle = new_vehicle(small, feed, east_of(cast.centre, -500.0))
    start = datetime.now(UTC) - timedelta(hours=2)
    drive = positions(vehicle, _route(cast, 200, step_m=5.0), start, every_s=2.0)
    post(small, feed, drive)
    line = _track(small, feed, vehicle, start, start + timedelta(hours=1))
    coordinates = line["geometry"]["coordinates"]
    assert line["properties"]["positions"] == 200 and line["properties"]["thinned"]
    assert 10 <= len(coordinates) <= 21
    assert coordinates[0] == pytest.approx([drive[0]["lon"], drive[0]["lat"]])
    assert coordinates[-1] == pytest.approx([drive[-1]["lon"], drive[-1]["lat"]])


def test_the_vehicle_moves_on_the_map_at_once(client: TestClient, cast: Cast) -> None:
    z = 16
    here, there = east_of(cast.centre, -2000.0, 100.0), east_of(cast.centre, 2000.0, 100.0)
    vehicle = new_vehicle(client, cast.feed, here)

    def shown(where: tuple[float, float]) -> set[int]:
        x, y = lonlat_to_tile(where[0], where[1], z)
        response = client.get(f"/tiles/vehicles/{z}/{x}/{y}.mvt", headers=cast.feed)
        if response.status_code == 204:
            return set()
        tile = mapbox_vector_tile.decode(response.content)
        return {f["id"] for f in tile.get("vehicles", {"features": []})["features"]}

    assert vehicle in shown(here) and vehicle not in shown(there)  # both tiles cached now
    post(client, cast.feed, positions(vehicle, [there], datetime.now(UTC) - timedelta(minutes=1)))
    assert vehicle not in shown(here) and vehicle in shown(there)


def _bad(kind: str, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    middle = batch[1]
    changes: dict[str, dict[str, Any]] = {
        "future": {"at": (now + timedelta(hours=1)).isoformat()},
        "too old": {"at": (now - timedelta(days=400)).isoformat()},
        "no fix": {"lon": 0.0, "lat": 0.0},
        "abroad": {"lon": 2.35, "lat": 48.85},
        "reversing": {"speed_kmh": -5.0},
        "a plane": {"speed_kmh": 900.0},
        "heading": {"heading_deg": 360.0},
        "unknown vehicle": {"vehicle_id": 2**62},
        "no time zone": {"at": now.replace(tzinfo=None).isoformat()},
    }
    return [batch[0], {**middle, **changes[kind]}, batch[2]]


@pytest.mark.parametrize(
    ("kind", "says"),
    [
        ("future", "lies in the future"),
        ("too old", "older than the retention of 90 days"),
        ("no fix", "0,0 is a receiver without a fix"),
        ("abroad", "lies outside China"),
        ("reversing", "speed_kmh must be 0..300"),
        ("a plane", "speed_kmh must be 0..300"),
        ("heading", "heading_deg must be at least 0 and below 360"),
        ("unknown vehicle", "unknown vehicles"),
        ("no time zone", "timezone"),
    ],
)
def test_a_bad_position_refuses_the_whole_batch(
    client: TestClient, cast: Cast, kind: str, says: str
) -> None:
    vehicle = new_vehicle(client, cast.feed, east_of(cast.centre, -500.0))
    start = datetime.now(UTC) - timedelta(minutes=10)
    refused = client.post("/api/tracks", headers=cast.feed, json={
        "positions": _bad(kind, positions(vehicle, _route(cast, 3), start))})  # fmt: skip
    assert refused.status_code == 422, refused.text
    assert says in refused.json()["detail"]
    if kind not in ("unknown vehicle", "no time zone"):
        assert "positions[1]" in refused.json()["detail"]
    line = _track(client, cast.feed, vehicle, start - timedelta(days=1), datetime.now(UTC))
    assert line["geometry"] is None and line["properties"]["positions"] == 0
    assert _feature(client, cast.feed, vehicle)["properties"]["version"] == 1


def test_an_oversized_or_empty_batch_is_refused(
    small: TestClient, cast: Cast, session_factory: sessionmaker[Session]
) -> None:
    feed = bearer(small, make_user(session_factory, Role.COMMANDER))
    vehicle = new_vehicle(small, feed, east_of(cast.centre, -500.0))
    start = datetime.now(UTC) - timedelta(hours=1)
    batch = positions(vehicle, _route(cast, 301, step_m=1.0), start, every_s=1.0)
    big = small.post("/api/tracks", headers=feed, json={"positions": batch})
    assert big.status_code == 413 and "at most 300 positions" in big.json()["detail"]
    empty = small.post("/api/tracks", headers=feed, json={"positions": []})
    assert empty.status_code == 422 and "positions" in empty.json()["detail"]
    assert _feature(small, feed, vehicle)["properties"]["version"] == 1


def test_only_a_feed_posts_and_readers_see_their_jurisdiction(
    client: TestClient, cast: Cast, session_factory: sessionmaker[Session]
) -> None:
    vehicle = new_vehicle(client, cast.feed, east_of(cast.centre, -500.0))
    start = datetime.now(UTC) - timedelta(minutes=10)
    drive = positions(vehicle, _route(cast, 3), start)
    refused = client.post("/api/tracks", json={"positions": drive}, headers=cast.officer)
    assert refused.status_code == 403 and "tracks:write" in refused.json()["detail"]
    with session_factory() as session:
        denial = session.scalars(  # refused by the route's rule (api/access.py)
            select(AuditRecord).where(AuditRecord.action == "access.denied",
                                      AuditRecord.actor_name == cast.officer_name,
                                      AuditRecord.detail.startswith("POST /api/tracks "))
        ).one()  # fmt: skip
    assert denial.result == "denied"
    assert post(client, cast.feed, drive)["stored"] == 3
    window = {"since": start.isoformat(), "until": datetime.now(UTC).isoformat()}
    for reader in (cast.officer, cast.tourism):
        response = client.get(f"/api/vehicles/{vehicle}/track", headers=reader, params=window)
        assert response.status_code == 200 and response.json()["properties"]["positions"] == 3
    hidden = client.get(f"/api/vehicles/{vehicle}/track", headers=cast.stranger, params=window)
    assert hidden.status_code == 404
    backwards = {"since": window["until"], "until": window["since"]}
    wrong = client.get(f"/api/vehicles/{vehicle}/track", headers=cast.feed, params=backwards)
    assert wrong.status_code == 422 and "before it starts" in wrong.json()["detail"]


def test_prune_drops_the_days_older_than_the_retention(
    client: TestClient, cast: Cast, session_factory: sessionmaker[Session], database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    vehicle = new_vehicle(client, cast.feed, east_of(cast.centre, -500.0))
    post(client, cast.feed, positions(vehicle, _route(cast, 2), datetime.now(UTC)))
    with session_factory() as session, session.begin():
        session.execute(text("SELECT vehicle_positions_partition('2020-01-01')"))
        session.execute(text(  # a perimeter deleted since: its states go
            "INSERT INTO geofence_states VALUES ('vehicles', :v, :gone, 'core', true, NULL, now())"
        ), {"v": vehicle, "gone": 2**62})  # fmt: skip
    monkeypatch.setenv("WARROOM_DATABASE_URL", database_url)
    monkeypatch.setenv("WARROOM_TRACKS_RETENTION_DAYS", "30")
    result = CliRunner().invoke(cli, ["tracks", "prune"])
    assert result.exit_code == 0, result.output
    assert "2020-01-01" in result.output
    with session_factory() as session:
        days = partition_days(session)
        orphans = session.scalar(
            text("SELECT count(*) FROM geofence_states WHERE perimeter_id = :gone"), {"gone": 2**62}
        )
    assert orphans == 0
    today = datetime.now(UTC).date()
    assert today in days and all(day >= today - timedelta(days=30) for day in days)
