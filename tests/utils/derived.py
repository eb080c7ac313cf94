"""Check the columns a layer derives from others, whoever wrote the rows: grams, Mercator."""

from __future__ import annotations

from sqlalchemy import Connection, text

from layers.features.grams import column_of, grams_of
from layers.features.models import text_search_columns


def stale_grams(connection: Connection, table: str) -> list[tuple[int, str]]:
    """Return (id, column) of every row of ``table`` whose ``c_grams`` do not match ``c``."""
    stale = []
    for column in text_search_columns(table):
        rows = connection.execute(text(f"SELECT id, {column}, {column_of(column)} FROM {table}"))
        for id_, value, grams in rows:
            expected = grams_of(value)
            if (None if grams is None else set(grams)) != (expected and set(expected)):
                stale.append((id_, column))
    return stale


def mercator_drift(connection: Connection, table: str) -> float:
    """Return how far (m) any ``geom_3857`` of ``table`` lies from ``geom`` in EPSG:3857."""
    drift = connection.scalar(text(f"SELECT coalesce(max(ST_Distance(geom_3857, "
                                   f"ST_Transform(geom, 3857))), 0) FROM {table}"))  # fmt: skip
    return float(drift)
