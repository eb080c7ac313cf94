"""password history and age, first-login change, second factor

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03

A reserved slot: filled by the work it names (no schema change until then).
"""

from __future__ import annotations

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply nothing yet."""


def downgrade() -> None:
    """Revert nothing yet."""
