"""audit append-only for the application role, keyed chain

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03

A reserved slot: filled by the work it names (no schema change until then).
"""

from __future__ import annotations

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply nothing yet."""


def downgrade() -> None:
    """Revert nothing yet."""
