"""record attachments and photos, stored with their content checked

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03

``record_attachments`` keeps each file's name, checked media type, size, SM3 digest,
image size, the record's state when it came, and who added it; ``attachment_contents``
its bytes, apart so that listing files never reads them, stored out of line without
compression (``STORAGE EXTERNAL``: JPEG, PNG, WebP and PDF are compressed already, so
PostgreSQL would spend the time for nothing).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the attachment tables."""
    op.create_table(
        "record_attachments",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("record_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("media_type", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sm3", sa.String(length=64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("record_state", sa.String(length=32), nullable=False),
        sa.Column("caption", sa.String(length=500), nullable=True),
        sa.Column("uploaded_by", sa.BigInteger(), nullable=True),
        sa.Column("uploader_name", sa.String(length=64), nullable=False),
        sa.Column(
            "uploaded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], ondelete="CASCADE",
            name=op.f("fk_record_attachments_record_id_records"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_attachments")),
        sa.UniqueConstraint("record_id", "sm3", name=op.f("uq_record_attachments_record_id_sm3")),
    )  # fmt: skip
    op.create_table(
        "attachment_contents",
        sa.Column("attachment_id", sa.BigInteger(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["attachment_id"], ["record_attachments.id"], ondelete="CASCADE",
            name=op.f("fk_attachment_contents_attachment_id_record_attachments"),
        ),
        sa.PrimaryKeyConstraint("attachment_id", name=op.f("pk_attachment_contents")),
    )  # fmt: skip
    op.execute("ALTER TABLE attachment_contents ALTER COLUMN content SET STORAGE EXTERNAL")


def downgrade() -> None:
    """Drop the attachment tables."""
    op.drop_table("attachment_contents")
    op.drop_table("record_attachments")
