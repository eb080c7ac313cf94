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
import queue
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import URL, Engine, create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from importers.encode import COPY_HEADER, COPY_TRAILER
from importers.staging import copy_sql, quote
from layers.errors import Conflict
from layers.features.registry import LayerSpec

logger = logging.getLogger(__name__)
SUFFIX = "__import"
SWAP_TRIES = 6
COPY_READ_BYTES = 1 << 20
_POLL_S = 0.2
SWAP_LOCK_TIMEOUT = "5s"
Step = Callable[[str, int, int], None]


@dataclass(frozen=True)
class IndexPlan:
    """One index of the layer: its name, how to build it on the new table, its constraint."""

    name: str
    definition: str
    constraint: str | None = None  # 'PRIMARY KEY' or 'UNIQUE' when a constraint owns it
    cost: int = 1


@dataclass(frozen=True)
class LayerSchema:
    """What the new table must get before it can stand in for the layer."""

    indexes: list[IndexPlan]
    foreign_keys: list[tuple[str, str]]  # (name, definition) of the layer's own keys
    referencing: list[tuple[str, str, str]]  # (table, name, definition) of keys to the layer
    triggers: list[str]
    sequences: list[tuple[str, str]]  # (sequence, column) the layer owns
    grants: list[str] = field(default_factory=list)


_BLOCKERS = """
SELECT (SELECT count(*) FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
        WHERE d.refobjid = :t AND r.ev_class <> :t)
     + (SELECT count(*) FROM pg_policy WHERE polrelid = :t)
     + (SELECT count(*) FROM pg_publication_rel WHERE prrelid = :t)
     + (SELECT count(*) FROM pg_inherits WHERE inhrelid = :t OR inhparent = :t)
"""
_INDEXES = """
SELECT c.relname, pg_get_indexdef(i.indexrelid), con.contype, a.amname,
       EXISTS (SELECT 1 FROM pg_attribute AS att WHERE att.attrelid = i.indrelid
               AND att.attnum = ANY(i.indkey) AND att.atttypid IN ('text'::regtype,
               'varchar'::regtype)) AS on_text
FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid JOIN pg_am AS a ON a.oid = c.relam
LEFT JOIN pg_constraint AS con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid
WHERE i.indrelid = :t ORDER BY c.relname
"""
_KEYS = """
SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), conrelid = :t
FROM pg_constraint WHERE contype = 'f' AND (conrelid = :t OR confrelid = :t) ORDER BY conname
"""
_TRIGGERS = "SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = :t AND NOT tgisinternal"
_SEQUENCES = """
SELECT s.oid::regclass::text, a.attname FROM pg_depend AS d
JOIN pg_class AS s ON s.oid = d.objid AND s.relkind = 'S'
JOIN pg_attribute AS a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
WHERE d.refobjid = :t AND d.deptype = 'a'
"""
_GRANTS = """
SELECT privilege_type, CASE WHEN grantee = 0 THEN 'PUBLIC' ELSE quote_ident(grantee::regrole::text)
       END FROM pg_class, aclexplode(relacl) WHERE oid = :t
"""
# Heavier index types first: with several builders the longest build starts at once.
_COST = {"gin": 8, "gist": 4}
_TEXT_COST = 2  # a btree over text sorts slower than one over numbers


def read_schema(session: Session, spec: LayerSpec) -> LayerSchema | None:
    """Return what the layer's table carries, or None if it cannot be swapped.

    A view, row-security policy, publication or inheritance on the table would not
    follow a swap; such a layer is loaded in place instead.
    """
    table = {"t": session.scalar(text("SELECT to_regclass(:n)::oid"), {"n": spec.table})}
    if session.scalar(text(_BLOCKERS), table):
        return None
    owning = {"p": "PRIMARY KEY", "u": "UNIQUE"}
    indexes = []
    for name, definition, kind, method, on_text in session.execute(text(_INDEXES), table):
        cost = _COST.get(method, _TEXT_COST if on_text else 1)
        indexes.append(IndexPlan(name, definition, owning.get(kind or ""), cost))
    keys = session.execute(text(_KEYS), table).all()
    grants = session.execute(text(_GRANTS), table).all()
    return LayerSchema(
        indexes=indexes,
        foreign_keys=[(name, definition) for _, name, definition, own in keys if own],
        referencing=[(owner, name, sql) for owner, name, sql, own in keys if not own],
        triggers=list(session.scalars(text(_TRIGGERS), table)),
        sequences=[(seq, column) for seq, column in session.execute(text(_SEQUENCES), table)],
        grants=[f"GRANT {what} ON {quote(spec.table)} TO {whom}" for what, whom in grants],
    )


def _build_statement(plan: IndexPlan, index: str, table: str) -> str:
    """Return the index's definition retargeted to ``index`` on ``table``."""
    head = re.compile(r"^CREATE (UNIQUE )?INDEX \S+ ON (ONLY )?\S+ ")
    match = head.match(plan.definition)
    if match is None:
        raise ValueError(f"unexpected index definition: {plan.definition}")
    unique = match.group(1) or ""
    return f"CREATE {unique}INDEX {quote(index)} ON {quote(table)} {plan.definition[match.end() :]}"


class _Aborted(Exception):
    """Raised inside COPY's read when the import gives up: COPY fails, nothing is kept."""


class _CopyStream:
    """One COPY FROM STDIN run by a thread of its own, fed chunks by the importing thread."""

    def __init__(self, cursor: Any, sql: str) -> None:
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=4)
        self._chunk = memoryview(b"")
        self._eof = False
        self._aborted = threading.Event()
        self.error: BaseException | None = None
        self.rows = 0
        self._thread = threading.Thread(target=self._run, args=(cursor, sql), daemon=True)
        self._thread.start()

    def _run(self, cursor: Any, sql: str) -> None:
        try:
            cursor.copy_expert(sql, self, size=COPY_READ_BYTES)
            self.rows = int(cursor.rowcount)
        except BaseException as exc:  # raised in the importing thread by ``put``/``finish``
            self.error = exc

    def read(self, size: int = -1) -> bytes:
        """Return the next bytes for COPY (``b""`` at the end), as a file object would."""
        while not self._chunk and not self._eof:
            try:
                chunk = self._queue.get(timeout=_POLL_S)
            except queue.Empty:
                if self._aborted.is_set():
                    raise _Aborted from None
                continue
            if chunk is None:
                self._eof = True
            else:
                self._chunk = memoryview(chunk)
        n = len(self._chunk) if size is None or size < 0 else size
        out, self._chunk = self._chunk[:n], self._chunk[n:]
        return bytes(out)

    def put(self, data: bytes | None) -> None:
        """Queue a chunk (None ends the COPY); raise what made the COPY fail, if it did."""
        while True:
            if self.error is not None:
                raise self.error
            try:
                self._queue.put(data, timeout=_POLL_S)
                return
            except queue.Full:
                continue

    def finish(self) -> int:
        """End the COPY, wait for PostgreSQL to take every row; return how many it took."""
        self.put(None)
        self._thread.join()
        if self.error is not None:
            raise self.error
        return self.rows

    def abort(self) -> None:
        """Make the COPY fail (if it still runs) and wait for its thread."""
        self._aborted.set()
        self._thread.join()


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
        self._copy: _CopyStream | None = None
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
        target = quote(self.table)
        if staged_as is not None:
            cursor.execute(f"CREATE TEMP TABLE {staged_as} ON COMMIT DROP AS "
                           f"SELECT {', '.join(quote(c) for c in self.columns)} "
                           f"FROM {quote(self.spec.table)} WITH NO DATA")  # fmt: skip
            target = staged_as
        sql = copy_sql(target, self.columns, freeze=staged_as is None)
        self._copy = _CopyStream(cursor, sql)
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
        return self.execute(f"INSERT INTO {quote(self.table)} ({names}) SELECT {names} "
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
            if column in mapped or column not in self._attributes():
                return f"s.{name}"
            return f"CASE WHEN t.id IS NULL THEN s.{name} ELSE t.{name} END"

        special = {
            "id": f"coalesce(t.id, nextval({sequence}))",
            "version": "coalesce(t.version + 1, 1)",
            "created_at": "coalesce(t.created_at, now())",
            "updated_at": "now()",
        }
        columns = self.stored_columns()
        values = ", ".join(special.get(c) or value(c) for c in columns)
        inserted = self.execute(
            f"INSERT INTO {quote(self.table)} ({', '.join(quote(c) for c in columns)}) "
            f"SELECT {values} FROM {staged} AS s LEFT JOIN {layer} AS t "
            "ON t.external_id = s.external_id"
        )  # fmt: skip
        kept = f"NOT EXISTS (SELECT 1 FROM {staged} AS s WHERE s.external_id = t.external_id)"
        updated = int(self.scalar(f"SELECT count(*) FROM {staged} AS s JOIN {layer} AS t "
                                  "ON t.external_id = s.external_id"))  # fmt: skip
        self.keep(kept, {})
        return inserted - updated, updated

    def _attributes(self) -> set[str]:
        return {a.name for a in self.spec.attributes}

    def build(self, step: Step) -> None:
        """Commit the rows, then build every index (in parallel) and the layer's keys."""
        self._loader.commit()
        _autocommit(self._loader)
        # Statistics of stored columns only: generated copies are never filtered on, and
        # autovacuum analyses them later.
        stored = ", ".join(quote(c) for c in self.stored_columns())
        self.execute(f"ANALYZE {quote(self.table)} ({stored})")
        plans = sorted(self.schema.indexes, key=lambda p: -p.cost)
        statements = [_build_statement(p, self._temporary(p), self.table) for p in plans]
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
