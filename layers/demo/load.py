"""Load the demo city into PostGIS in one transaction: COPY, jurisdiction, indexes, ANALYZE."""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

import numpy as np
import shapely
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from geo.hexes import cells_of_points
from layers.crypto.keys import KeyRing, bind_key_ring
from layers.demo.data import LayerData
from layers.demo.encode import copy_columns, copy_text
from layers.demo.generate import DEFAULT_SEED, DEFAULT_UNITS, generate_city
from layers.demo.operators import load_demo_operators
from layers.demo.personal import sealed_layer
from layers.demo.records import load_demo_records
from layers.errors import Conflict
from layers.features.grams import trigger_of
from layers.features.jurisdiction import BOUNDARY_TABLES, assign_jurisdiction
from layers.features.models import FEATURE_MODELS
from layers.tourism.demo import load_demo_tourism

CHUNK_ROWS = 100_000
_COPY_BUFFER = 1 << 20
FEATURE_TABLES: tuple[str, ...] = tuple(m.__table__.name for m in FEATURE_MODELS)  # type: ignore[attr-defined]

Progress = Callable[[str, int, int], None]

# Indexes that back no constraint; they are dropped before COPY and rebuilt after it.
_SECONDARY_INDEXES = """
SELECT CAST(CAST(i.indexrelid AS regclass) AS text), pg_get_indexdef(i.indexrelid)
FROM pg_index AS i
WHERE i.indrelid = CAST(:table AS regclass)
  AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c WHERE c.conindid = i.indexrelid)
ORDER BY 1
"""
_FOREIGN_KEYS = """
SELECT quote_ident(conname), pg_get_constraintdef(oid) FROM pg_constraint
WHERE conrelid = CAST(:table AS regclass) AND contype = 'f'
ORDER BY 1
"""

_FILLFACTOR = """
SELECT o.option_value FROM pg_class AS c, pg_options_to_table(c.reloptions) AS o
WHERE c.oid = CAST(:table AS regclass) AND o.option_name = 'fillfactor'
"""


@dataclass
class LoadReport:
    """What a demo load did: rows per table and seconds per step (in the order they ran)."""

    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def total_seconds(self) -> float:
        """Return the wall time of the whole load."""
        return sum(self.seconds.values())

    def summary(self) -> list[tuple[str, int | None, float]]:
        """Return (layer, rows, seconds) per loaded layer, then (step, None, seconds) per step left.

        A layer's seconds are those of its own steps (copy, jurisdiction, indexes).
        """
        per_layer = {table: 0.0 for table in self.counts}
        others: list[tuple[str, int | None, float]] = []
        for step, seconds in self.seconds.items():
            table = step.partition(" ")[2]
            if table in per_layer:
                per_layer[table] += seconds
            else:
                others.append((step, None, seconds))
        return [*((t, self.counts[t], s) for t, s in per_layer.items()), *others]

    @contextmanager
    def timed(self, step: str) -> Iterator[None]:
        """Add the wall time of the block to ``step``."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[step] = self.seconds.get(step, 0.0) + time.perf_counter() - start


def database_is_empty(engine: Engine) -> bool:
    """Return True when the database holds no units and no districts."""
    with engine.connect() as conn:
        return not conn.execute(
            text("SELECT EXISTS (SELECT 1 FROM units) OR EXISTS (SELECT 1 FROM districts)")
        ).scalar_one()


def load_demo_city(
    engine: Engine,
    *,
    units: int = DEFAULT_UNITS,
    seed: int = DEFAULT_SEED,
    reference_time: datetime | None = None,
    replace: bool = False,
    progress: Progress | None = None,
    keys: KeyRing,
) -> LoadReport:
    """Generate the demo city and load it into empty feature tables, all or nothing.

    Personal columns (units' contacts) are sealed with ``keys`` on their way in.

    Raises ``Conflict`` if any feature table holds rows, unless ``replace`` is set: then
    every feature table is emptied first, together with the rows of other tables that
    reference features (TRUNCATE ... CASCADE). ``progress(step, done, total)`` is called
    as work advances; the steps are ``generate``, each table name (rows copied),
    ``jurisdiction`` and ``indexes`` (tables done) and ``analyze``.
    """
    notify = progress or (lambda step, done, total: None)
    report = LoadReport()
    with bind_key_ring(sessionmaker(engine), keys)() as session:  # audited doors need it
        _begin(session, replace=replace)
        with report.timed("generate"):
            notify("generate", 0, 1)
            city = generate_city(units, seed, reference_time)
            notify("generate", 1, 1)
        stripped = {table: _strip(session, table) for table in FEATURE_TABLES}
        for layer in city.layers:
            with report.timed(f"copy {layer.table}"):
                rows = sealed_layer(session, keys, _spatially_ordered(layer))
                _copy(session, rows, partial(notify, layer.table))
            report.counts[layer.table] = len(layer)
        # Boundaries get their indexes back first: every other table is assigned by them.
        _restore(session, report, {t: stripped.pop(t) for t in BOUNDARY_TABLES}, notify)
        with report.timed("analyze"):
            session.execute(text(f"ANALYZE {', '.join(BOUNDARY_TABLES)}"))
        for done, layer in enumerate(city.layers):
            notify("jurisdiction", done, len(city.layers))
            with report.timed(f"jurisdiction {layer.table}"):
                if layer.table in stripped:
                    _restore_geometry_index(session, layer.table, stripped[layer.table])
                assign_jurisdiction(session, layer.table)
        notify("jurisdiction", len(city.layers), len(city.layers))
        _restore(session, report, stripped, notify)
        with report.timed("assign operators"):
            report.counts["operators"] = load_demo_operators(session)
        with report.timed("tourism points"):
            report.counts["tourism_points"] = load_demo_tourism(session, now=city.reference_time)
        notify("records", 0, 1)
        with report.timed("generate records"):
            made = load_demo_records(session, seed=seed, now=city.reference_time)
            report.counts["records"] = sum(made.values())
        notify("records", 1, 1)
        notify("analyze", 0, 1)
        with report.timed("analyze"):
            session.execute(text(f"ANALYZE {', '.join(FEATURE_TABLES)}"))
        notify("analyze", 1, 1)
        with report.timed("commit"):
            session.commit()
    return report


def _spatially_ordered(layer: LayerData) -> LayerData:
    """Return ``layer`` sorted by H3 cell, so rows near each other share table pages.

    Spatial queries then read a few pages per area instead of one page per row
    (measured ~3x faster on 1M units than the generator's random order).
    """
    xy = shapely.get_coordinates(shapely.point_on_surface(layer.geom))
    return layer.reordered(np.argsort(cells_of_points(xy[:, 0], xy[:, 1]), kind="stable"))


def _begin(session: Session, *, replace: bool) -> None:
    """Lock the feature tables and make sure they are empty (emptying them if ``replace``)."""
    # A big load outlives the pool's statement timeout; index builds want memory.
    session.execute(text("SET LOCAL statement_timeout = 0"))
    session.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
    tables = ", ".join(FEATURE_TABLES)
    session.execute(text(f"LOCK TABLE {tables} IN ACCESS EXCLUSIVE MODE"))
    if replace:
        session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        return
    probes = " UNION ALL ".join(
        f"SELECT '{t}' WHERE EXISTS (SELECT 1 FROM {t})"  # noqa: S608 our own table names
        for t in FEATURE_TABLES
    )
    busy = list(session.execute(text(probes)).scalars())
    if busy:
        raise Conflict(
            "the database already holds features; load the demo city with replace to replace them",
            tables=busy,
        )


@dataclass(frozen=True)
class _Stripped:
    """What ``_strip`` took from a table: secondary indexes, foreign keys, own fillfactor."""

    indexes: list[str]
    foreign_keys: list[tuple[str, str]]
    fillfactor: str | None


def _strip(session: Session, table: str) -> _Stripped:
    """Strip ``table`` for the load: indexes, foreign keys, grams trigger; half-full pages.

    Indexes and foreign keys are much faster to build and check once after the COPY and
    the jurisdiction UPDATE than row by row during them. Half-empty pages let that UPDATE
    write each row's new version beside the old one (a HOT update: no index entries, no
    table growth), three times faster on 1M units. The COPY writes the grams itself
    (``layers.demo.encode``), 5 s faster for a million units than the trigger.
    """
    indexes = session.execute(text(_SECONDARY_INDEXES), {"table": table}).all()
    for name, _ in indexes:
        session.execute(text(f"DROP INDEX {name}"))
    foreign_keys = session.execute(text(_FOREIGN_KEYS), {"table": table}).all()
    for name, _ in foreign_keys:
        session.execute(text(f"ALTER TABLE {table} DROP CONSTRAINT {name}"))
    own = session.execute(text(_FILLFACTOR), {"table": table}).scalar_one_or_none()
    session.execute(text(f"ALTER TABLE {table} SET (fillfactor = 50)"))
    session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {trigger_of(table)}"))
    return _Stripped(
        [definition for _, definition in indexes],
        [(name, definition) for name, definition in foreign_keys],
        own,
    )


def _restore_geometry_index(session: Session, table: str, taken: _Stripped) -> None:
    """Build ``table``'s GiST index now: the jurisdiction join probes it once per precinct."""
    name = f"ix_{table}_geom"
    for definition in [d for d in taken.indexes if f"INDEX {name} " in d]:
        session.execute(text(definition))
        taken.indexes.remove(definition)


def _restore(
    session: Session, report: LoadReport, stripped: dict[str, _Stripped], notify: Progress
) -> None:
    """Give tables back their grams trigger, fillfactor, foreign keys and indexes, timed."""
    for done, (table, taken) in enumerate(stripped.items()):
        notify("indexes", done, len(stripped))
        with report.timed(f"indexes {table}"):
            session.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER {trigger_of(table)}"))
            if taken.fillfactor is None:
                session.execute(text(f"ALTER TABLE {table} RESET (fillfactor)"))
            else:
                session.execute(
                    text(f"ALTER TABLE {table} SET (fillfactor = {int(taken.fillfactor)})")
                )
            for name, definition in taken.foreign_keys:
                session.execute(text(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}"))
            for definition in taken.indexes:
                session.execute(text(definition))
    notify("indexes", len(stripped), len(stripped))


def _copy(session: Session, layer: LayerData, notify: Callable[[int, int], None]) -> None:
    """COPY ``layer`` into its table in chunks, encoding the next chunk while one is sent."""
    sql = f"COPY {layer.table} ({', '.join(copy_columns(layer))}) FROM STDIN"
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    total = len(layer)
    notify(0, total)
    with ThreadPoolExecutor(max_workers=1) as encoder:

        def encode(start: int) -> Future[str]:
            return encoder.submit(copy_text, layer, start, start + CHUNK_ROWS)

        pending = encode(0)
        for start in range(0, total, CHUNK_ROWS):
            chunk = pending.result()
            if start + CHUNK_ROWS < total:
                pending = encode(start + CHUNK_ROWS)
            cursor.copy_expert(sql, io.StringIO(chunk), size=_COPY_BUFFER)
            notify(min(start + CHUNK_ROWS, total), total)
    cursor.close()
