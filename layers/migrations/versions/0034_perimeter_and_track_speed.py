"""perimeter and track speed (slot reserved; filled by the work that needs it)

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-03
"""

from __future__ import annotations

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet."""


def downgrade() -> None:
    """Nothing yet."""
