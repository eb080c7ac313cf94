"""Migration 0019 marks the place of the records a database holds, and moves them there."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from layers.migrate import upgrade
from tests.utils.migrations import database_at


@pytest.fixture
def at_0018(server_url: str) -> Iterator[str]:
    """A database of the test's own, migrated to the revision before the record places."""
    with database_at(server_url, "0018") as url:
        yield url


def _point(x: float) -> str:
    return f"ST_SetSRID(ST_MakePoint({x}, 39.9), 4326)"


_UNIT = (
    "INSERT INTO units (name, category, risk_level, is_key_unit, geom) "
    "VALUES ('单位', 'company', 1, false, {point}) RETURNING id"
)
_BOUNDARY = (
    "INSERT INTO {table} (name, code, geom) VALUES ('{table}', '{table}', "
    "ST_Multi(ST_MakeEnvelope(116, 39, 117, 41, 4326))) RETURNING id"
)
_RECORD = (
    "INSERT INTO records (kind, topic, state, title, geom) VALUES "
    "('task', 'internal_security', 'draft', '旧记录', {point}) RETURNING id"
)


def test_records_held_before_get_their_place_and_follow_it(at_0018: str) -> None:
    engine = create_engine(at_0018)
    with engine.begin() as connection:
        first = connection.scalar(text(_UNIT.format(point=_point(116.1))))
        second = connection.scalar(text(_UNIT.format(point=_point(116.2))))
        # the boundaries drawn after them place the units (0012's trigger), not the records
        connection.execute(text(_BOUNDARY.format(table="districts")))
        precinct = connection.scalar(text(_BOUNDARY.format(table="precincts")))

        def record(at: float, *units: int) -> int:
            """A record at ``at`` about ``units``, in no jurisdiction (left behind)."""
            made = int(connection.scalar(text(_RECORD.format(point=_point(at)))))
            for unit in units:
                connection.execute(text("INSERT INTO record_links VALUES (:r, 'units', :u)"),
                                   {"r": made, "u": unit})  # fmt: skip
            return made

        stale = record(116.9, first)
        at_second = record(116.2, first, second)
        elsewhere = record(116.5, second, first)
    upgrade(at_0018)

    def where(record_id: int) -> tuple[float, int | None, list[int]]:
        with engine.connect() as connection:
            x, precinct_id = connection.execute(
                text("SELECT ST_X(geom), precinct_id FROM records WHERE id = :r"), {"r": record_id}
            ).one()
            placed = list(connection.scalars(
                text("SELECT feature_id FROM record_links WHERE record_id = :r AND place"),
                {"r": record_id},
            ))  # fmt: skip
        return x, precinct_id, placed

    assert where(stale) == (116.1, precinct, [first])  # its one link, and moved there
    assert where(at_second) == (116.2, precinct, [second])  # the link at its point
    assert where(elsewhere) == (116.1, precinct, [min(first, second)])  # else the first
    with engine.begin() as connection:  # a unit moved by plain SQL takes its records along
        connection.execute(text(f"UPDATE units SET geom = {_point(116.3)} WHERE id = :u"),
                           {"u": second})  # fmt: skip
    assert where(at_second) == (116.3, precinct, [second])
    assert where(stale)[0] == where(elsewhere)[0] == 116.1
