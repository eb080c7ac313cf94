"""tourism: station exits, from which flows to parks are derived

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-03

``station_exits`` holds how many people left a rail station in an hour (the transit
operator's gate data); ``layers.tourism.flows`` shares them among the parks the station
is related to (within walking distance) as derived flows. The speed work of #18.9 needed
no schema change: counts keep their key, the rollups are the ones of 0028.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``station_exits``."""
    op.create_table(
        "station_exits",
        sa.Column("station_id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("exits", sa.Integer(), nullable=False),
        sa.CheckConstraint("exits >= 0", name=op.f("ck_station_exits_exits")),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["rail_stations.id"],
            ondelete="CASCADE",
            name=op.f("fk_station_exits_station_id_rail_stations"),
        ),
        sa.PrimaryKeyConstraint("station_id", "at", name=op.f("pk_station_exits")),
    )
    op.create_index("ix_station_exits_at", "station_exits", ["at"])


def downgrade() -> None:
    """Drop ``station_exits``."""
    op.drop_index("ix_station_exits_at", table_name="station_exits")
    op.drop_table("station_exits")
