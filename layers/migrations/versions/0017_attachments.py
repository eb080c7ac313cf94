"""record attachments and photos, stored with their content checked

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03

A reserved slot: filled by the work it names (no schema change until then).
"""

from __future__ import annotations

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply nothing yet."""


def downgrade() -> None:
    """Revert nothing yet."""
