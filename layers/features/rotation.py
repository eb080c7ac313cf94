"""Bring every sealed personal value of the feature layers to the key ring's current key.

One batch of rows per transaction (``layers.crypto.columns.reseal_batch``), committed
before the next is read: stopped anywhere, the rows done keep their new sealing and a
new run takes up the stale rows that are left. Blind indexes are recomputed with the
values, under the same key version, so a search finds old and new rows alike
(``layers.crypto.personal``).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine, text

from layers.crypto.columns import PersonalColumn, reseal_batch, stale_clause
from layers.crypto.keys import KeyRing
from layers.features.personal import personal_columns
from layers.features.registry import all_layers

Progress = Callable[[str, int, int], None]


def _sealed_tables() -> dict[str, list[PersonalColumn]]:
    return {spec.table: columns for spec in all_layers() if (columns := personal_columns(spec))}


def stale_rows(engine: Engine, ring: KeyRing) -> dict[str, int]:
    """Return how many rows of each layer hold a value sealed under another key."""
    with engine.connect() as connection:
        return {
            table: int(connection.scalar(text(
                f"SELECT count(*) FROM {table} WHERE {stale_clause(columns, ring.current)}"
            )) or 0)
            for table, columns in _sealed_tables().items()
        }  # fmt: skip


def reseal_layers(
    engine: Engine, ring: KeyRing, *, batch: int = 2_000, progress: Progress | None = None
) -> dict[str, int]:
    """Re-seal every stale row of every layer under the current key; return rows per table."""
    notify = progress or (lambda step, done, total: None)
    totals = stale_rows(engine, ring)
    done: dict[str, int] = {}
    for table, columns in _sealed_tables().items():
        after, done[table] = 0, 0
        notify(table, 0, totals[table])
        while True:
            with engine.begin() as connection:
                count, last = reseal_batch(connection, ring, columns, after, batch)
            if last is None:
                break
            after, done[table] = last, done[table] + count
            notify(table, done[table], max(totals[table], done[table]))
    return done
