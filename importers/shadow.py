"""A bulk load builds the layer anew beside itself and swaps it in at commit.

What imposm3 and osm2pgsql do for whole databases, for one layer: the rows go by COPY
into a new table shaped like the layer (no indexes yet, frozen as they are written),
the rows the import keeps are copied over, the layer's indexes are built on it by
several connections at once (one core each), and the importing transaction — which
has held off every other writer of the layer from the start, while readers went on
reading the old rows — swaps the new table in under the layer's name with its
indexes, constraints, triggers, sequence and grants.

Nothing the layer's readers see changes before that commit. Killed before it, the
import leaves the layer as it was and at most a table named ``<layer>__import``,
which the next import of the layer drops.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import URL, Engine, create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from importers.copy_stream import CopyStream
from importers.encode import COPY_HEADER, COPY_TRAILER, MERCATOR
from importers.layer_schema import IndexPlan, LayerSchema, build_statement
from importers.staging import copy_sql, quote
from layers.errors import Conflict
from layers.features.grams import column_of, text_of
from layers.features.models import text_search_columns
from layers.features.registry import LayerSpec

logger = logging.getLogger(__name__)
SUFFIX = "__import"
SWAP_TRIES = 6
SWAP_LOCK_TIMEOUT = "5s"
Step = Callable[[str, int, int], None]


class ShadowLoad:
    """The new table of one bulk import, from the first row COPYed to the swap."""

    def __init__(
        self, *, session: Session, spec: LayerSpec, schema: LayerSchema, columns: list[str],
        workers: int = 2,
    ) -> None:  # fmt: skip
        self.session, self.spec, self.schema, self.columns = session, spec, schema, columns
        self.table = f"{spec.table}{SUFFIX}"
        self.workers = max(1, workers)
        bind = session.get_bind()
        assert isinstance(bind, Engine)
        self._engine = _helper_engine(bind.url)
        self._loader = self._engine.raw_connection()
        self._copy: CopyStream | None = None
        self.copied = 0

    def start(self, *, staged_as: str | None = None) -> None:
        """Create the new table (empty, no indexes) and start the COPY stream into it.

        With ``staged_as`` the rows go to a temporary table of that name instead, for
        ``merge_staged`` to combine with the rows they update.
        """
        cursor = self._loader.cursor()
        cursor.execute(f"DROP TABLE IF EXISTS {quote(self.table)}")  # a killed import's
        self._loader.commit()
        like = f"LIKE {quote(self.spec.table)} INCLUDING ALL EXCLUDING INDEXES"
        cursor.execute(f"CREATE TABLE {quote(self.table)} ({like})")
        # The layer's owner (the application's role) must own its successor: the sequence
        # moves over to it at the swap, and a later import as that role must drop it.
        cursor.execute("SELECT quote_ident(pg_get_userbyid(relowner)) FROM pg_class "
                       "WHERE oid = to_regclass(%s)", (self.spec.table,))  # fmt: skip
        owner = cursor.fetchone()
        assert owner is not None  # the layer's table exists: its shape was copied above
        cursor.execute(f"ALTER TABLE {quote(self.table)} OWNER TO {owner[0]}")
        target = quote(self.table)
        if staged_as is not None:
            cursor.execute(f"CREATE TEMP TABLE {staged_as} ON COMMIT DROP AS "  # noqa: S608 identifiers only, values bound
                           f"SELECT {', '.join(quote(c) for c in self.columns)} "
                           f"FROM {quote(self.spec.table)} WITH NO DATA")  # fmt: skip
            target = staged_as
        sql = copy_sql(target, self.columns, freeze=staged_as is None)
        self._copy = CopyStream(cursor, sql)
        self._copy.put(COPY_HEADER)

    def write(self, data: bytes) -> None:
        """Queue binary COPY tuples (``encode.encode_rows``) for the COPY stream."""
        assert self._copy is not None
        self._copy.put(data)

    def end_copy(self) -> None:
        """Close the COPY stream and wait for PostgreSQL to take the last rows."""
        assert self._copy is not None
        self._copy.put(COPY_TRAILER)
        self.copied = self._copy.finish()
        self._copy = None

    def execute(self, sql: str, params: dict[str, Any] | None = None) -> int:
        """Run a statement in the load's transaction; return its row count."""
        cursor = self._loader.cursor()
        cursor.execute(sql, params or {})
        return int(cursor.rowcount)

    def scalar(self, sql: str) -> Any:
        """Return the first value of a query run in the load's transaction."""
        cursor = self._loader.cursor()
        cursor.execute(sql)
        row = cursor.fetchone()
        return row[0] if row else None

    def stored_columns(self) -> list[str]:
        """Return the layer's columns a row is written with (all but generated ones)."""
        table = self.spec.model.__table__  # type: ignore[attr-defined]
        return [c.name for c in table.columns if c.computed is None]

    def keep(self, where: str, params: dict[str, Any]) -> int:
        """Copy the layer's rows matching ``where`` (alias ``t``) into the new table."""
        names = ", ".join(quote(c) for c in self.stored_columns())
        source = f"{quote(self.spec.table)} AS t WHERE {where}"
        return self.execute(f"INSERT INTO {quote(self.table)} ({names}) SELECT {names} "  # noqa: S608 identifiers only, values bound
                            f"FROM {source}", params)  # fmt: skip

    def merge_staged(self, staged: str, *, mapped: set[str]) -> tuple[int, int]:
        """Write the staged rows into the new table, updating the features they match.

        A matched feature keeps its id, creation time and the attributes the file does
        not map, and its version goes up by one; the layer's other rows are kept as
        they are. Return (inserted, updated).
        """
        layer, copied = quote(self.spec.table), set(self.columns)
        sequence = f"pg_get_serial_sequence('{layer}', 'id')"

        def value(column: str) -> str:
            name = quote(column)
            if column not in copied:
                return f"t.{name}"
            if column == "external_id":  # a row matched by id has none of its own
                return f"coalesce(s.{name}, t.{name})"
            if text_of(column) in mapped or text_of(column) not in self._attributes():
                return f"s.{name}"
            return f"CASE WHEN t.id IS NULL THEN s.{name} ELSE t.{name} END"

        given = "s.id, " if "id" in copied else ""  # new rows given their ids beforehand
        special = {
            "id": f"coalesce(t.id, {given}nextval({sequence}))",
            "version": "coalesce(t.version + 1, 1)",
            "created_at": "coalesce(t.created_at, now())",
            "updated_at": "now()",
        }
        columns = self.stored_columns()
        values = ", ".join(special.get(c) or value(c) for c in columns)
        match = "t.external_id = s.external_id"
        if "id" in copied:  # some rows match by feature id: give the others theirs, join by id
            self.execute(f"UPDATE {staged} AS s SET id = t.id FROM {layer} AS t "  # noqa: S608 identifiers only, values bound
                         "WHERE s.id IS NULL AND t.external_id = s.external_id")  # fmt: skip
            match = "t.id = s.id"
        inserted = self.execute(
            f"INSERT INTO {quote(self.table)} ({', '.join(quote(c) for c in columns)}) "  # noqa: S608 identifiers only, values bound
            f"SELECT {values} FROM {staged} AS s LEFT JOIN {layer} AS t ON {match}"
        )  # fmt: skip
        kept = f"NOT EXISTS (SELECT 1 FROM {staged} AS s WHERE {match})"  # noqa: S608 identifiers only, values bound
        updated = int(self.scalar(f"SELECT count(*) FROM {staged} AS s JOIN {layer} AS t "  # noqa: S608 identifiers only, values bound
                                  f"ON {match}"))  # fmt: skip
        self.keep(kept, {})
        return inserted - updated, updated

    def _attributes(self) -> set[str]:
        return {a.name for a in self.spec.attributes}

    def build(self, step: Step) -> None:
        """Commit the rows, then build every index (in parallel) and the layer's keys."""
        self._loader.commit()
        _autocommit(self._loader)
        # Not the Mercator copy (never filtered on) nor the grams (their element statistics
        # took 0.2 s of a million rows' 0.44 s; a search plans well on the defaults):
        # autovacuum analyses them later.
        skipped = {MERCATOR, *map(column_of, text_search_columns(self.spec.table))}
        stored = ", ".join(quote(c) for c in self.stored_columns() if c not in skipped)
        self.execute(f"ANALYZE {quote(self.table)} ({stored})")
        plans = sorted(self.schema.indexes, key=lambda p: -p.cost)
        statements = [build_statement(p, self._temporary(p), self.table) for p in plans]
        _run_parallel(self._engine, statements, self.workers,
                      lambda n: step("index", n, len(statements)))  # fmt: skip
        for plan in plans:
            if plan.constraint:
                name = quote(self._temporary(plan))
                self.execute(f"ALTER TABLE {quote(self.table)} ADD CONSTRAINT {name} "
                             f"{plan.constraint} USING INDEX {name}")  # fmt: skip
        for name, definition in self.schema.foreign_keys:
            self.execute(f"ALTER TABLE {quote(self.table)} ADD CONSTRAINT {quote(name)} "
                         f"{definition} NOT VALID")  # fmt: skip
            self.execute(f"ALTER TABLE {quote(self.table)} VALIDATE CONSTRAINT {quote(name)}")

    def _temporary(self, plan: IndexPlan) -> str:
        return f"{self.table}_{self.schema.indexes.index(plan)}"

    def swap(self) -> None:
        """Put the new table in the layer's place within the importing transaction."""
        session, table, layer = self.session, quote(self.table), quote(self.spec.table)
        _lock_exclusively(session, self.spec.table)
        for owner, name, _ in self.schema.referencing:
            session.execute(text(f"ALTER TABLE {owner} DROP CONSTRAINT {quote(name)}"))
        for sequence, column in self.schema.sequences:
            session.execute(text(f"ALTER SEQUENCE {sequence} OWNED BY {table}.{quote(column)}"))
        session.execute(text(f"DROP TABLE {layer}"))
        session.execute(text(f"ALTER TABLE {table} RENAME TO {layer}"))
        for plan in self.schema.indexes:
            temporary, name = quote(self._temporary(plan)), quote(plan.name)
            session.execute(text(
                f"ALTER TABLE {layer} RENAME CONSTRAINT {temporary} TO {name}" if plan.constraint
                else f"ALTER INDEX {temporary} RENAME TO {name}"
            ))  # fmt: skip
        for statement in [*self.schema.triggers, *self.schema.grants]:
            session.execute(text(statement))
        for owner, name, definition in self.schema.referencing:
            session.execute(text(f"ALTER TABLE {owner} ADD CONSTRAINT {quote(name)} {definition}"))

    def close(self, *, keep: bool = False) -> None:
        """Release the load's connections; drop the new table unless it was swapped in."""
        if self._copy is not None:
            self._copy.abort()
        try:
            if not keep:
                self._loader.rollback()
                _autocommit(self._loader)
                self._loader.cursor().execute(f"DROP TABLE IF EXISTS {quote(self.table)}")
        except Exception:  # the next import of the layer drops what is left
            logger.warning("could not drop %s", self.table, exc_info=True)
        finally:
            self._loader.close()
            self._engine.dispose()


def _autocommit(connection: Any) -> None:
    """Switch a pooled DB-API connection to autocommit (the driver's own attribute)."""
    connection.driver_connection.autocommit = True


def _helper_engine(url: URL) -> Engine:
    """Return an engine of fresh connections set up for long bulk statements."""
    options = ("-c statement_timeout=0 -c maintenance_work_mem=512MB -c jit=off "
               "-c max_parallel_maintenance_workers=0 -c work_mem=256MB")  # fmt: skip
    arguments = {"options": options, "application_name": "warroom-import"}
    return create_engine(url, poolclass=NullPool, connect_args=arguments)


def _run_parallel(
    engine: Engine, statements: list[str], workers: int, on_done: Callable[[int], None]
) -> None:
    """Run ``statements`` in order over ``workers`` connections of their own, concurrently."""
    pending = list(statements)
    lock = threading.Lock()
    finished: list[str] = []
    errors: list[BaseException] = []

    def work() -> None:
        connection = engine.raw_connection()
        try:
            _autocommit(connection)
            cursor = connection.cursor()
            while True:
                with lock:
                    if errors or not pending:
                        return
                    statement = pending.pop(0)
                cursor.execute(statement)
                with lock:
                    finished.append(statement)
                    on_done(len(finished))
        except BaseException as exc:
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    count = min(workers, len(pending))
    threads = [threading.Thread(target=work, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def _lock_exclusively(session: Session, table: str) -> None:
    """Take the layer's ACCESS EXCLUSIVE lock, waiting out readers a few seconds at a time.

    The importing transaction already holds a lock that keeps writers out; a reader in a
    long transaction only delays the swap, and new readers queue behind it meanwhile.
    """
    for attempt in range(SWAP_TRIES):
        savepoint = session.begin_nested()
        try:
            session.execute(text(f"SET LOCAL lock_timeout = '{SWAP_LOCK_TIMEOUT}'"))
            session.execute(text(f"LOCK TABLE {quote(table)} IN ACCESS EXCLUSIVE MODE"))
            session.execute(text("SET LOCAL lock_timeout = 0"))
            savepoint.commit()
            return
        except OperationalError:
            savepoint.rollback()
            logger.info("layer %s busy, swap attempt %d", table, attempt + 1)
    raise Conflict(f"layer {table!r} stayed busy with long-running reads; nothing was changed, "
                   "import again later")  # fmt: skip
