"""The event log's guarantees, held by the database whoever writes: ids in commit order, and
each feature event keeping where the feature was."""

from __future__ import annotations

import threading
import time

from fastapi.testclient import TestClient
from sqlalchemy import Engine, and_, or_, select, text
from sqlalchemy.orm import Session, sessionmaker

from layers.accounts.roles import Role
from layers.audit.models import Event
from layers.features.models import Unit
from tests.utils.events import create_incident, two_places
from tests.utils.users import bearer, make_user

INSERT = text("INSERT INTO events (type, payload) VALUES ('drill.order', '{}') RETURNING id")
WAITING = text(
    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
    "AND wait_event = 'advisory' AND query LIKE '%drill.order%' AND pid <> pg_backend_pid()"
)


def _wait_until_blocked(engine: Engine) -> None:
    deadline = time.monotonic() + 20  # a guard against hanging, not a measure
    # each look in a transaction of its own: one keeps its first view of pg_stat_activity
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as probe:
        while not probe.execute(WAITING).scalar():
            assert time.monotonic() < deadline, "the second writer never waited"
            time.sleep(0.01)


def test_an_id_is_drawn_only_after_every_earlier_writer_ended(engine: Engine) -> None:
    """A writer that skips the app's lock (psql) still draws its id under it, so a later
    id never becomes visible before an earlier one: ``id > last seen`` misses nothing."""
    second: dict[str, int] = {}

    def write_second() -> None:
        with engine.connect() as connection, connection.begin():
            second["id"] = connection.execute(INSERT).scalar_one()

    with engine.connect() as first_writer:
        transaction = first_writer.begin()
        first = first_writer.execute(INSERT).scalar_one()
        thread = threading.Thread(target=write_second)
        thread.start()
        _wait_until_blocked(engine)
        assert "id" not in second  # waiting for the first writer to end
        transaction.commit()
    thread.join()
    assert second["id"] > first


def test_a_rolled_back_writer_leaves_a_gap_and_no_disorder(engine: Engine) -> None:
    with engine.connect() as connection:
        with connection.begin() as transaction:
            lost = connection.execute(INSERT).scalar_one()
            transaction.rollback()
        with connection.begin():
            kept = connection.execute(INSERT).scalar_one()
    assert kept > lost
    with engine.connect() as connection:
        assert connection.execute(select(Event.id).where(Event.id == lost)).first() is None


def test_a_deleted_features_event_keeps_where_it_was(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    headers = bearer(client, make_user(session_factory, Role.COMMANDER))
    with session_factory() as session:
        place = two_places(session)[0]
        # a demo unit has no event before its deletion: the trigger places it by its box
        unit = session.scalars(select(Unit).where(Unit.precinct_id == place.precinct.id)
                               .order_by(Unit.id.desc()).limit(1)).one()  # fmt: skip
        unit_id, unit_version = unit.id, unit.version
    incident = create_incident(client, headers, place.point)
    for layer, feature_id, version in (
        ("incidents", incident, 1),
        ("units", unit_id, unit_version),
    ):
        deleted = client.delete(f"/api/layers/{layer}/features/{feature_id}",
                                headers={**headers, "If-Match": f'"{version}"'})  # fmt: skip
        assert deleted.status_code == 204, deleted.text
    with session_factory() as session:
        kept = session.execute(
            select(Event.layer, Event.type, Event.precinct_id, Event.district_id)
            .where(or_(and_(Event.layer == "incidents", Event.feature_id == incident),
                       and_(Event.layer == "units", Event.feature_id == unit_id)))
            .order_by(Event.id)
        ).all()  # fmt: skip
    where = (place.precinct.id, place.precinct.district_id)
    assert [(layer, kind, (p, d)) for layer, kind, p, d in kept][-3:] == [
        ("incidents", "feature.created", where),
        ("incidents", "feature.deleted", where),
        ("units", "feature.deleted", where),
    ]
