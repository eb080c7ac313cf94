"""search: a trigram index on unit addresses, codes by prefix

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

``/api/search`` ORed ``name``, ``address`` and ``credit_code`` of 1,000,000 units with
only ``name`` indexed: a sequential scan (1.2-3 s). Addresses get a trigram index of their
own beside the names' (a bulk load builds the two side by side: 4.3 s for a million units,
against 10.0 s for one multi-column index over both).
Credit and station codes compare as bytes (like the ids and codes of 0006) and are
matched from their start: a plain B-tree (1.0 s per million credit codes) instead of
their trigrams (5.2 s). Bus stops (20,000) need theirs too: one unindexed branch of an
OR makes PostgreSQL read the whole layer (10 ms a search).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

CODES = (("units", "credit_code", 18), ("rail_stations", "code", 32), ("bus_stations", "code", 32))


def _codes(collation: str | None) -> None:
    for table, column, length in CODES:
        op.alter_column(table, column, type_=sa.String(length, collation=collation),
                        existing_type=sa.String(length))  # fmt: skip


def upgrade() -> None:
    _codes("C")
    op.create_index("ix_units_address_trgm", "units", ["address"], postgresql_using="gin",
                    postgresql_ops={"address": "gin_trgm_ops"})  # fmt: skip
    op.create_index("ix_units_credit_code", "units", ["credit_code"])
    op.create_index("ix_bus_stations_code", "bus_stations", ["code"])


def downgrade() -> None:
    op.drop_index("ix_bus_stations_code", table_name="bus_stations")
    op.drop_index("ix_units_credit_code", table_name="units")
    op.drop_index("ix_units_address_trgm", table_name="units")
    _codes("default")
