"""officer workspaces and phone: on-site check-ins, offline submissions

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-03

``check_ins``: an officer was at a feature (their position, the distance to it, the
server's and the phone's time, the feature's jurisdiction then). ``client_writes``: the
keys under which a user's client sent a write (``Idempotency-Key``), so a phone that
sends a check-in or an inspection again after a lost answer does not write it twice.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the check-ins and the keys of client writes."""
    op.create_table(
        "check_ins",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=True),
        sa.Column("layer", sa.String(32), nullable=False),
        sa.Column("feature_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger()),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("geom", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
        sa.Column("distance_m", sa.Float(), nullable=False),
        sa.Column("accuracy_m", sa.Float()),
        sa.Column("client_at", sa.DateTime(timezone=True)),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("district_id", sa.BigInteger()),
        sa.Column("precinct_id", sa.BigInteger()),
    )
    op.create_index("ix_check_ins_feature", "check_ins", ["layer", "feature_id", "at"])
    op.create_index("ix_check_ins_user_id", "check_ins", ["user_id"])
    op.create_table(
        "client_writes",
        sa.Column("user_id", sa.BigInteger(), primary_key=True),
        sa.Column("key", sa.String(64, collation="C"), primary_key=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("target_id", sa.BigInteger()),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    )


def downgrade() -> None:
    """Drop the check-ins and the keys of client writes."""
    op.drop_table("client_writes")
    op.drop_table("check_ins")
