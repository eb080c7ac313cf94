"""hex aggregates: per-H3-cell counts and sums of the clustered layers, and their dirty list

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# The layers whose rows 0002's triggers queue in tile_cluster_dirty (registry point_zoom).
CLUSTERED_TABLES = ("units", "bus_stations", "incidents")
EDGES = ("west", "south", "east", "north")
WORLD = "-180, -85.06, 180, 85.06"

# Every box queued for the tile clusters is a box whose hex counts changed too: the
# triggers of migration 0002 already report the rows every writer touches.
BOX_QUEUED = """
CREATE FUNCTION hex_box_queued() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO hex_count_dirty (layer, west, south, east, north)
    SELECT layer, west, south, east, north FROM queued;
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    op.create_table(
        "hex_counts",
        sa.Column("layer", sa.String(64), nullable=False),
        sa.Column("resolution", sa.SmallInteger(), nullable=False),
        sa.Column("cell", sa.BigInteger(), nullable=False),
        sa.Column("district_id", sa.BigInteger(), nullable=False),
        sa.Column("precinct_id", sa.BigInteger(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("sums", sa.ARRAY(sa.BigInteger()), nullable=False),
        sa.PrimaryKeyConstraint(
            "layer", "resolution", "cell", "district_id", "precinct_id", name="pk_hex_counts"
        ),
    )
    op.create_table(
        "hex_count_dirty",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("layer", sa.String(64), nullable=False),
        *(sa.Column(edge, sa.Float(53), nullable=False) for edge in EDGES),
        sa.PrimaryKeyConstraint("id", name="pk_hex_count_dirty"),
    )
    op.create_index("ix_hex_count_dirty_layer", "hex_count_dirty", ["layer"])
    op.execute(BOX_QUEUED)
    op.execute(
        "CREATE TRIGGER tile_cluster_dirty_queued AFTER INSERT ON tile_cluster_dirty "
        "REFERENCING NEW TABLE AS queued FOR EACH STATEMENT EXECUTE FUNCTION hex_box_queued()"
    )
    for table in CLUSTERED_TABLES:
        # counts of rows that exist before this migration are built on first use
        op.execute(f"INSERT INTO hex_count_dirty VALUES (DEFAULT, '{table}', {WORLD})")


def downgrade() -> None:
    op.execute("DROP TRIGGER tile_cluster_dirty_queued ON tile_cluster_dirty")
    op.execute("DROP FUNCTION hex_box_queued()")
    op.drop_table("hex_count_dirty")
    op.drop_table("hex_counts")
