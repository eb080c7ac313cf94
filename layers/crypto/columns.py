"""Personal columns in bulk: seal many rows at once, and bring rows to the current key.

A personal column ``c`` of a table holds the sealed value (``layers.crypto.fields``) and
``c_index`` its blind-index digest (``layers.crypto.personal``). Writers that go around
the ORM (the demo's COPY, imports, migrations) seal with ``seal_many``; ``reseal_batch``
is one step of ``warroom keys rotate``: it re-seals a batch of rows under the current
key and recomputes their digests, in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection
from sqlalchemy.types import LargeBinary

from layers.crypto.fields import FORMAT, FieldCipher
from layers.crypto.keys import KeyRing
from layers.crypto.personal import BlindIndex, PersonalKind

__all__ = ["PersonalColumn", "index_column", "reseal_batch", "seal_many", "stale_clause"]


def index_column(column: str) -> str:
    """Return the name of the blind-index column of personal column ``column``."""
    return f"{column}_index"


@dataclass(frozen=True)
class PersonalColumn:
    """A sealed column of a table, the kind of value it holds, and its blind index."""

    table: str
    column: str
    kind: PersonalKind

    @property
    def index(self) -> str:
        """Return the blind-index column's name."""
        return index_column(self.column)


def seal_many(
    ring: KeyRing, column: PersonalColumn, ids: Sequence[int], texts: Sequence[str | None]
) -> tuple[list[bytes | None], list[bytes | None]]:
    """Return the sealed values and digests of ``texts`` for rows ``ids`` (None stays None)."""
    cipher, blind = FieldCipher(ring), BlindIndex(ring)
    given = [(t, (column.table, column.column, int(i)))
             for i, t in zip(ids, texts, strict=True) if t is not None]  # fmt: skip
    made = iter(cipher.seal_all([t for t, _ in given], [p for _, p in given]))
    sealed = [None if t is None else next(made) for t in texts]
    digests = [None if t is None else blind.digest(column.kind, t) for t in texts]
    return sealed, digests


def stale_clause(columns: Sequence[PersonalColumn], current: int) -> str:
    """Return SQL true for a row with a value sealed under another key than ``current``."""
    header = f"'\\x{FORMAT:02x}{current:04x}'::bytea"
    return " OR ".join(
        f"({c.column} IS NOT NULL AND substring({c.column} FROM 1 FOR 3) <> {header})"
        for c in columns
    )


def reseal_batch(
    connection: Connection, ring: KeyRing, columns: Sequence[PersonalColumn], after_id: int,
    size: int,
) -> tuple[int, int | None]:  # fmt: skip
    """Re-seal up to ``size`` stale rows with id above ``after_id``; return (count, last id).

    The rows are locked until the caller commits; the last id is None when none was left.
    """
    table = columns[0].table
    names = ", ".join(c.column for c in columns)
    rows = connection.execute(
        text(f"SELECT id, {names} FROM {table} WHERE id > :after "
             f"AND ({stale_clause(columns, ring.current)}) ORDER BY id LIMIT :size FOR UPDATE"),
        {"after": after_id, "size": size},
    ).all()  # fmt: skip
    if not rows:
        return 0, None
    cipher, blind = FieldCipher(ring), BlindIndex(ring)
    updates = []
    for row in rows:
        values: dict[str, object] = {"row_id": row[0]}
        for position, column in enumerate(columns, start=1):
            sealed = row[position]
            place = (table, column.column, row[0])
            plain = None if sealed is None else cipher.open(bytes(sealed), place)
            values[column.column] = None if plain is None else cipher.reseal(bytes(sealed), place)
            values[column.index] = None if plain is None else blind.digest(column.kind, plain)
        updates.append(values)
    sets = ", ".join(f"{name} = :{name}" for c in columns for name in (c.column, c.index))
    statement = text(f"UPDATE {table} SET {sets} WHERE id = :row_id").bindparams(
        *(bindparam(name, type_=LargeBinary) for c in columns for name in (c.column, c.index))
    )
    connection.execute(statement, updates)
    return len(rows), int(rows[-1][0])
