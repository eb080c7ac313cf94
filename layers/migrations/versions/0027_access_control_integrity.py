"""access-control information protected by HMAC-SM3

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-03

A reserved slot: filled by the work it names (no schema change until then).
"""

from __future__ import annotations

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply nothing yet."""


def downgrade() -> None:
    """Revert nothing yet."""
