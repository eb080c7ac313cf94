"""Committed feature changes reach every worker's listener; payloads parse or are ignored."""

from __future__ import annotations

import queue
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from tiles.listener import ChangeListener, parse_notification
from tiles.sql import BBox

WAIT_S = 30  # only bounds a hang; the test never asserts on time


def test_payloads_parse_or_are_ignored() -> None:
    assert parse_notification("units 116.1 39.5 116.2 39.6") == (
        "units",
        (116.1, 39.5, 116.2, 39.6),
    )
    assert parse_notification("units 1 2 3") is None
    assert parse_notification("units a b c d") is None


@pytest.fixture
def heard(engine: Engine) -> Iterator[queue.Queue[tuple[str, BBox] | None]]:
    """Changes a running listener hears; ``None`` marks a (re)connect."""
    changes: queue.Queue[tuple[str, BBox] | None] = queue.Queue()
    dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    listener = ChangeListener(
        dsn,
        on_change=lambda layer, box: changes.put((layer, box)),
        on_gap=lambda: changes.put(None),
    )
    listener.start()
    assert listener.wait_listening(WAIT_S)
    assert changes.get(timeout=WAIT_S) is None  # the first connect reports a gap
    yield changes
    listener.stop()


def test_a_committed_write_is_heard_with_its_box_and_a_rolled_back_one_is_not(
    engine: Engine, heard: queue.Queue[tuple[str, BBox] | None]
) -> None:
    insert = text(
        "INSERT INTO vehicles (name, plate, kind, geom) "
        "VALUES (:n, :n, 'taxi', ST_SetSRID(ST_MakePoint(:x, 40.1), 4326))"
    )
    with engine.connect() as conn:
        conn.execute(insert, {"n": "京L·ROLLBK", "x": 90.0})
        conn.rollback()
        conn.execute(insert, {"n": "京L·COMMIT", "x": 91.0})
        conn.commit()
    layer, box = heard.get(timeout=WAIT_S)  # type: ignore[misc]
    assert layer == "vehicles" and box == (91.0, 40.1, 91.0, 40.1)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM vehicles WHERE plate = '京L·COMMIT'"))
    assert heard.get(timeout=WAIT_S) == ("vehicles", (91.0, 40.1, 91.0, 40.1))
