"""Personal columns of a generated layer, sealed for their rows before the COPY.

The rows get their ids from the table's sequence first (one query), since a sealed value
is bound to its row (``layers.crypto.fields``); the COPY then writes ids, sealed values
and blind-index digests, and no plain personal value reaches the database.
"""

from __future__ import annotations

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session

from layers.crypto.columns import seal_many
from layers.crypto.keys import KeyRing
from layers.demo.data import LayerData
from layers.features.personal import personal_columns
from layers.features.registry import all_layers

_RESERVE_IDS = text(
    "SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"
)


def _copy_bytea(value: bytes | None) -> str | None:
    """Return COPY text of a bytea value (hex input; the backslash escaped for COPY)."""
    return None if value is None else "\\\\x" + value.hex()


def sealed_layer(session: Session, ring: KeyRing, layer: LayerData) -> LayerData:
    """Return ``layer`` with ids, and its personal columns sealed and blind-indexed."""
    spec = next((s for s in all_layers() if s.table == layer.table), None)
    columns = [c for c in personal_columns(spec) if c.column in layer.columns] if spec else []
    if not columns or len(layer) == 0:
        return layer
    ids = list(session.scalars(_RESERVE_IDS, {"table": layer.table, "n": len(layer)}))
    values = {**layer.columns, "id": np.asarray(ids, dtype=np.int64)}
    for column in columns:
        sealed, digests = seal_many(ring, column, ids, list(values[column.column]))
        values[column.column] = [_copy_bytea(s) for s in sealed]
        values[column.index] = [_copy_bytea(d) for d in digests]
    return LayerData(layer.table, layer.geom, values)
