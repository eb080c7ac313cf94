"""Check that stored grams are the grams of the stored text, whoever wrote the rows."""

from __future__ import annotations

from sqlalchemy import Connection, text

from layers.features.grams import grams_of
from layers.features.models import text_search_columns


def stale_grams(connection: Connection, table: str) -> list[tuple[int, str]]:
    """Return (id, column) of every row of ``table`` whose ``c_grams`` do not match ``c``."""
    stale = []
    for column in text_search_columns(table):
        rows = connection.execute(text(f"SELECT id, {column}, {column}_grams FROM {table}"))
        for id_, value, grams in rows:
            expected = grams_of(value)
            if (None if grams is None else set(grams)) != (expected and set(expected)):
                stale.append((id_, column))
    return stale
