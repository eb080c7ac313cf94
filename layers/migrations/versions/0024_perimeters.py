"""security perimeters with versioned rings

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03

A reserved slot: filled by the work it names (no schema change until then).
"""

from __future__ import annotations

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply nothing yet."""


def downgrade() -> None:
    """Revert nothing yet."""
