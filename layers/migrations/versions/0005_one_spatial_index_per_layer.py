"""one spatial index per layer: tiles select on geom; no index on the 4-value risk_level

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

A Mercator tile is an exact lon/lat rectangle, so tiles select point rows on the GiST
index of ``geom`` (the envelope transformed once per query) and only read the stored
``geom_3857`` of the rows they encode. The second GiST index per point layer cost every
write and every bulk load (1.5 s per million units) and answered nothing the first did
not. ``risk_level`` takes four values: an index on it is never selective.
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

POINT_TABLES = ("units", "rail_stations", "bus_stations", "incidents", "vehicles")


def upgrade() -> None:
    for table in POINT_TABLES:
        op.drop_index(f"ix_{table}_geom_3857", table_name=table)
    op.drop_index("ix_units_risk_level", table_name="units")


def downgrade() -> None:
    op.create_index("ix_units_risk_level", "units", ["risk_level"])
    for table in POINT_TABLES:
        op.create_index(f"ix_{table}_geom_3857", table, ["geom_3857"], postgresql_using="gist")
