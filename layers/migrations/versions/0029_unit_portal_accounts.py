"""unit portal: unit accounts, invitations, pending unit edits

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-03

``unit_invitations``: an officer's one-time invitation of a unit to the portal
(``layers.accounts.invitations``). Only the SM3 digest of the code is kept; a code is
good once, until it expires or is revoked. Unit edits waiting for an officer are
approval records (``layers.records.approvals``): no table of their own.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the invitations table."""
    op.create_table(
        "unit_invitations",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=True),
        sa.Column(
            "unit_id",
            sa.BigInteger(),
            sa.ForeignKey("units.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("code_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_by", sa.BigInteger(), sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True)),
        sa.Column("user_id", sa.BigInteger(), sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("expires_at > created_at", name="unit_invitations_expiry"),
    )


def downgrade() -> None:
    """Drop the invitations table."""
    op.drop_table("unit_invitations")
