"""transit operators of stations and lines; records follow boundary changes

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03

``feature_operators``: a unit (a metro company, a bus fleet, a rail builder) operates
features of other layers — stations, stops, rail construction sites; a transfer station
may have two. Its users read the records about them (``layers.features.operators``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the operators of features."""
    op.create_table(
        "feature_operators",
        sa.Column("unit_id", sa.BigInteger(), nullable=False),
        sa.Column("layer", sa.String(32), nullable=False),
        sa.Column("feature_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            ondelete="CASCADE",
            name="fk_feature_operators_unit_id_units",
        ),
        sa.PrimaryKeyConstraint("unit_id", "layer", "feature_id", name="pk_feature_operators"),
    )
    op.create_index(
        "ix_feature_operators_feature", "feature_operators", ["layer", "feature_id"]
    )


def downgrade() -> None:
    """Drop the operators of features."""
    op.drop_table("feature_operators")
