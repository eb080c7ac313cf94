"""unit search: one trigram index over name and address, credit codes by prefix

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

``/api/search`` ORed ``name``, ``address`` and ``credit_code`` of 1,000,000 units with
only ``name`` indexed: a sequential scan (1.3-3 s). One multi-column GIN index holds the
trigrams of both texts and replaces the name-only one, so a unit load still builds a
single trigram index (12.8 s instead of 6.8 s per million rows; two separate ones cost
14.2 s). Credit codes are matched from their start: a pattern B-tree (0.7-0.9 s per
million) instead of their trigrams (5.2 s).
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_units_name_trgm", table_name="units")
    op.create_index("ix_units_text_trgm", "units", ["name", "address"], postgresql_using="gin",
                    postgresql_ops={"name": "gin_trgm_ops", "address": "gin_trgm_ops"})  # fmt: skip
    op.create_index("ix_units_credit_code", "units", ["credit_code"],
                    postgresql_ops={"credit_code": "varchar_pattern_ops"})  # fmt: skip


def downgrade() -> None:
    op.drop_index("ix_units_credit_code", table_name="units")
    op.drop_index("ix_units_text_trgm", table_name="units")
    op.create_index("ix_units_name_trgm", "units", ["name"], postgresql_using="gin",
                    postgresql_ops={"name": "gin_trgm_ops"})  # fmt: skip
