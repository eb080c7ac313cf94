"""The live event stream over real HTTP: order, resumption, workers, scope, filters, liveness."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from layers.accounts.roles import Role
from layers.accounts.scope import SYSTEM
from layers.accounts.service import Jurisdiction
from layers.audit.service import append_event
from layers.settings import DatabaseSettings, Settings
from tests.utils.events import (
    Place,
    Point,
    box_around,
    create_incident,
    fast,
    feature_ids,
    new_task,
    two_places,
)
from tests.utils.servers import served
from tests.utils.sse import Message, open_stream
from tests.utils.tcp_proxy import tcp_proxy
from tests.utils.users import bearer, log_in, make_user


@pytest.fixture(scope="module")
def server(settings: Settings, city: None) -> Iterator[str]:
    """A worker serving streams on a real socket."""
    with served(create_app(fast(settings))) as url:
        yield url


@pytest.fixture(scope="module")
def commander(client: TestClient, session_factory: sessionmaker[Session]) -> dict[str, str]:
    """A city-wide commander's credentials."""
    return bearer(client, make_user(session_factory, Role.COMMANDER))


@pytest.fixture(scope="module")
def places(session_factory: sessionmaker[Session], city: None) -> tuple[Place, Place]:
    """Two precincts with units."""
    with session_factory() as session:
        return two_places(session)


def test_events_arrive_in_order_each_with_its_id(
    server: str, client: TestClient, commander: dict[str, str], places: tuple[Place, Place]
) -> None:
    point = places[0].point
    with open_stream(server, commander, types="feature", layers="incidents",
                     bbox=box_around(point)) as stream:  # fmt: skip
        assert stream.status == 200
        first = stream.next()
        assert first is not None and first.retry == "500"
        made = [create_incident(client, commander, point) for _ in range(3)]
        patched = client.patch(
            f"/api/layers/incidents/features/{made[0]}", json={"properties": {"level": 3}},
            headers={**commander, "If-Match": '"1"'},
        )  # fmt: skip
        assert patched.status_code == 200, patched.text
        deleted = client.delete(
            f"/api/layers/incidents/features/{made[1]}", headers={**commander, "If-Match": '"1"'}
        )
        assert deleted.status_code == 204, deleted.text
        messages = stream.events(5)
    bodies = [message.json() for message in messages]
    assert [(b["type"], b["feature_id"]) for b in bodies] == [
        ("feature.created", made[0]), ("feature.created", made[1]),
        ("feature.created", made[2]), ("feature.updated", made[0]),
        ("feature.deleted", made[1]),
    ]  # fmt: skip
    ids = [int(message.id or 0) for message in messages]
    assert ids == [body["id"] for body in bodies] and ids == sorted(set(ids))
    assert all(b["layer"] == "incidents" and b["bbox"] is not None for b in bodies)


def _write_burst(server: str, headers: dict[str, str], point: Point, count: int) -> list[int]:
    with httpx.Client(base_url=server, timeout=30) as http:
        return [create_incident(http, headers, point) for _ in range(count)]


def test_reconnecting_loses_and_repeats_nothing_across_concurrent_writes(
    server: str, commander: dict[str, str], places: tuple[Place, Place]
) -> None:
    point = (places[1].point[0] + 0.0002, places[1].point[1])
    params = {"types": "feature.created", "layers": "incidents", "bbox": box_around(point)}
    written: list[list[int]] = [[] for _ in range(4)]

    def writer(slot: int) -> None:
        written[slot] = _write_burst(server, commander, point, 15)

    writers = [threading.Thread(target=writer, args=(slot,)) for slot in range(4)]
    received: list[Message] = []
    with open_stream(server, commander, **params) as stream:
        for thread in writers:
            thread.start()
        received += stream.events(10)
        resume = stream.last_id
    # cut mid-burst; back with Last-Event-ID as a browser does, then once more with ?after=
    with open_stream(server, {**commander, "Last-Event-ID": str(resume)}, **params) as stream:
        received += stream.events(15)
        resume = stream.last_id
    for thread in writers:
        thread.join()
    expected = {feature_id for batch in written for feature_id in batch}
    with open_stream(server, commander, after=resume, **params) as stream:
        received += stream.events(len(expected) - 25)
    ids = [int(message.id or 0) for message in received]
    assert ids == sorted(ids) and len(set(ids)) == len(ids) == 60  # none twice, in order
    assert set(feature_ids(received)) == expected  # none lost


def test_two_workers_both_deliver_every_event(
    server: str, settings: Settings, client: TestClient, commander: dict[str, str],
    places: tuple[Place, Place],
) -> None:  # fmt: skip
    point = (places[0].point[0] - 0.0003, places[0].point[1])
    params = {"types": "feature.created", "bbox": box_around(point)}
    with (
        served(create_app(fast(settings))) as other,
        open_stream(server, commander, **params) as one,
        open_stream(other, commander, **params) as two,
    ):
        made = [create_incident(client, commander, point) for _ in range(3)]
        heard_one, heard_two = one.events(3), two.events(3)
    assert feature_ids(heard_one) == feature_ids(heard_two) == made
    assert [m.id for m in heard_one] == [m.id for m in heard_two]


def test_a_stream_outlives_a_database_outage_and_loses_nothing(
    settings: Settings, client: TestClient, commander: dict[str, str],
    places: tuple[Place, Place],
) -> None:  # fmt: skip
    point = (places[1].point[0], places[1].point[1] + 0.0003)
    database = make_url(settings.database.url or "")
    with tcp_proxy(database.host or "127.0.0.1", database.port or 5432) as proxy:
        behind = database.set(host="127.0.0.1", port=proxy.port)
        through = DatabaseSettings(url=behind.render_as_string(hide_password=False))
        cut_off = fast(settings, session_check_s=600).model_copy(update={"database": through})
        with (
            served(create_app(cut_off)) as url,
            open_stream(url, commander, types="feature.created", bbox=box_around(point)) as stream,
        ):
            before = create_incident(client, commander, point)
            assert feature_ids(stream.events(1)) == [before]
            proxy.cut()  # its listening connection and pool are gone: notifications are lost
            during = [create_incident(client, commander, point) for _ in range(3)]
            proxy.restore()
            after = create_incident(client, commander, point)
            assert feature_ids(stream.events(4)) == [*during, after]


def test_an_officer_hears_only_his_precinct(
    server: str, client: TestClient, session_factory: sessionmaker[Session],
    commander: dict[str, str], places: tuple[Place, Place],
) -> None:  # fmt: skip
    here, there = places
    officers = [
        bearer(client, make_user(session_factory, Role.OFFICER,
                                 Jurisdiction(precinct_code=place.precinct.code)))
        for place in places
    ]  # fmt: skip
    with (
        open_stream(server, officers[0], types="feature", layers="incidents") as mine,
        open_stream(server, officers[1], types="feature", layers="incidents") as theirs,
    ):
        # in id order: had an officer heard the other precinct's incident, it would come first
        first_here = create_incident(client, commander, here.point)
        first_there = create_incident(client, commander, there.point)
        second_here = create_incident(client, commander, here.point)
        assert feature_ids(mine.events(2)) == [first_here, second_here]
        assert feature_ids(theirs.events(1)) == [first_there]


def test_a_unit_user_hears_only_its_own_units_records(
    server: str, client: TestClient, session_factory: sessionmaker[Session],
    commander: dict[str, str], places: tuple[Place, Place],
) -> None:  # fmt: skip
    unit, neighbour = places[0].units
    users = [
        bearer(client, make_user(session_factory, Role.UNIT, Jurisdiction(unit_id=unit_id)))
        for unit_id in (unit, neighbour)
    ]
    with (
        open_stream(server, users[0], types="record") as ours,
        open_stream(server, users[1], types="record") as theirs,
    ):
        tasks = [
            new_task(client, commander, unit_id)["id"] for unit_id in (neighbour, unit, neighbour)
        ]
        assert [m.json()["payload"]["record_id"] for m in ours.events(1)] == [tasks[1]]
        assert [m.json()["payload"]["record_id"] for m in theirs.events(2)] == [tasks[0], tasks[2]]


def test_types_layers_and_box_each_filter(
    server: str, client: TestClient, commander: dict[str, str], places: tuple[Place, Place]
) -> None:
    point = (places[1].point[0] - 0.0004, places[1].point[1])
    elsewhere = (point[0] + 0.01, point[1])
    earlier = create_incident(client, commander, point)
    with open_stream(server, commander, types="feature.created", layers="incidents",
                     bbox=box_around(point)) as stream:  # fmt: skip
        stop = client.post("/api/layers/bus_stations/features", headers=commander, json={
            "geometry": {"type": "Point", "coordinates": list(point)},
            "properties": {"name": "流测试公交站", "lines": "1路"},
        })  # fmt: skip
        assert stop.status_code == 201, stop.text  # another layer
        create_incident(client, commander, elsewhere)  # outside the box
        moved = client.patch(f"/api/layers/incidents/features/{earlier}", headers={
            **commander, "If-Match": '"1"'}, json={"properties": {"level": 4}})  # fmt: skip
        assert moved.status_code == 200, moved.text  # another type
        wanted = create_incident(client, commander, point)
        assert feature_ids(stream.events(1)) == [wanted]


def test_an_idle_stream_hears_heartbeats(server: str, commander: dict[str, str]) -> None:
    with open_stream(server, commander, types="nothing_ever") as stream:
        seen = [stream.next() for _ in range(4)]
    assert seen[0] is not None and seen[0].retry == "500"
    assert any(m is not None and m.comment == "keep-alive" for m in seen[1:])


def test_a_revoked_session_ends_its_stream(
    server: str, client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    token = log_in(client, make_user(session_factory, Role.COMMANDER))
    headers = {"Authorization": f"Bearer {token}"}
    with open_stream(server, headers) as stream:
        assert client.post("/api/auth/logout", headers=headers).status_code == 204
        last = stream.until("end")
        assert last.json()["code"] == "SessionEnded"
        assert stream.next() is None  # closed by the server


def test_a_client_too_far_behind_is_cut_and_resumes_without_loss(
    settings: Settings, commander: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    with served(create_app(fast(settings, client_queue=2))) as url:
        with open_stream(url, commander, types="drill") as stream:
            with session_factory() as session, session.begin():  # one commit: one batch of 5
                burst = [append_event(session, type="drill.burst", actor=SYSTEM).id
                         for _ in range(5)]  # fmt: skip
            last = stream.until("end")
            assert last.json()["code"] == "SlowClient"
            assert stream.next() is None
            resume = stream.last_id
        with open_stream(url, {**commander, "Last-Event-ID": str(resume)}, types="drill") as again:
            assert [int(m.id or 0) for m in again.events(5)] == burst


def test_the_stream_counts_its_clients_in_metrics(
    settings: Settings, client: TestClient, session_factory: sessionmaker[Session],
    commander: dict[str, str],
) -> None:  # fmt: skip
    admin = bearer(client, make_user(session_factory, Role.ADMIN))
    with (
        served(create_app(fast(settings))) as url,
        open_stream(url, commander),
        open_stream(url, commander, types="record"),
    ):
        metrics = httpx.get(f"{url}/metrics", headers=admin).text
    assert "warroom_stream_clients 2.0" in metrics


@pytest.mark.parametrize(
    ("role", "params", "headers", "status"),
    [
        (None, {}, {}, 401),
        (Role.AUDITOR, {}, {}, 403),
        (Role.COMMANDER, {"layers": "nowhere"}, {}, 422),
        (Role.COMMANDER, {"types": "Record!"}, {}, 422),
        (Role.COMMANDER, {}, {"Last-Event-ID": "abc"}, 422),
        (Role.COMMANDER, {"after": "-1"}, {}, 422),
    ],
)
def test_refusals_are_precise(
    server: str, client: TestClient, session_factory: sessionmaker[Session],
    role: Role | None, params: dict[str, str], headers: dict[str, str], status: int,
) -> None:  # fmt: skip
    auth = bearer(client, make_user(session_factory, role)) if role else {}
    answer = httpx.get(f"{server}/api/events/stream", params=params,
                       headers={**auth, **headers}, timeout=30)  # fmt: skip
    assert answer.status_code == status, answer.text
    assert answer.json()["code"]
