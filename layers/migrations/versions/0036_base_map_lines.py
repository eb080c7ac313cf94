"""base map lines (slot reserved; filled by the work that needs it)

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-03
"""

from __future__ import annotations

revision = "0036"
down_revision = "0035"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet."""


def downgrade() -> None:
    """Nothing yet."""
