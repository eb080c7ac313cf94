"""feedback with screenshots for the operations centre

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03

Users send feedback (text, the page, an optional PNG screenshot) that admins triage.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the feedback table."""
    op.create_table(
        "feedback",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("author_id", sa.BigInteger(), nullable=True),
        sa.Column("author_name", sa.String(length=64), nullable=False),
        sa.Column("page_url", sa.String(length=2000), nullable=False),
        sa.Column("text", sa.String(length=4000), nullable=False),
        sa.Column("screenshot", sa.LargeBinary(), nullable=True),
        sa.Column("screenshot_bytes", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(length=2000), nullable=True),
        sa.Column("triaged_by", sa.String(length=64), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("status IN ('new','in_progress','done','rejected')",
                           name=op.f("ck_feedback_status")),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], ondelete="SET NULL",
                                name=op.f("fk_feedback_author_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback")),
    )  # fmt: skip
    op.create_index(op.f("ix_feedback_author_id"), "feedback", ["author_id"])
    op.create_index(op.f("ix_feedback_status"), "feedback", ["status"])


def downgrade() -> None:
    """Drop the feedback table."""
    op.drop_index(op.f("ix_feedback_status"), table_name="feedback")
    op.drop_index(op.f("ix_feedback_author_id"), table_name="feedback")
    op.drop_table("feedback")
