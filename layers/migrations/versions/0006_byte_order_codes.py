"""ids and codes compare as bytes (COLLATE "C"); no index on the ten unit categories

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

Identifiers need no linguistic order, and under a libc collation (the cluster default,
e.g. C.UTF-8 or zh_CN.UTF-8) PostgreSQL compares text with strcoll and without
abbreviated keys: building the unique index on a million external ids took 1.3 s (0.5 s
in byte order). Byte order keeps the same order for UTF-8 text as C.UTF-8 and lets
btree indexes serve ``LIKE 'prefix%'``.

A unit's category is one of ten, a tenth of the layer each: its index cost every write
and 1.3 s per million rows loaded, while category filters are answered through the
spatial index (maps, tiles, boxes) or a few pages of the primary key (keyset pages).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

FEATURE_TABLES = (
    "districts", "precincts", "units", "parks", "rail_stations", "bus_stations",
    "construction_sites", "key_station_areas", "incidents", "vehicles",
)  # fmt: skip
CODES = (
    ("districts", "code", 32), ("precincts", "code", 32), ("units", "category", 32),
    ("incidents", "category", 32), ("incidents", "status", 16), ("vehicles", "plate", 16),
    ("vehicles", "kind", 16),
)  # fmt: skip
COLUMNS = (*((table, "external_id", 128) for table in FEATURE_TABLES), *CODES)


def _collate(collation: str | None) -> None:
    for table, column, length in COLUMNS:
        op.alter_column(table, column, type_=sa.String(length, collation=collation),
                        existing_type=sa.String(length))  # fmt: skip


def upgrade() -> None:
    _collate("C")
    op.drop_index("ix_units_category", table_name="units")


def downgrade() -> None:
    op.create_index("ix_units_category", "units", ["category"])
    _collate("default")
