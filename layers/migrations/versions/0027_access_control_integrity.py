"""access-control information protected by HMAC-SM3

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-03

``users.authority_mac``: the HMAC-SM3 seal of a user's role, jurisdiction and state
(``layers.accounts.integrity``). The migration holds no key, so existing rows stay NULL
("not sealed"), which a login refuses until ``warroom access seal`` seals them. A change
of the seal alone now also tells every worker to forget the user's remembered sessions.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

# The fields whose change ends remembered sessions (migration 0020), and now the seal.
USER_FIELDS = (
    "username", "password_hash", "role", "district_id", "precinct_id", "unit_id", "is_active",
    "password_changed_at", "password_must_change", "totp_confirmed_at",
)  # fmt: skip


def _user_trigger(fields: tuple[str, ...]) -> None:
    changed = " OR ".join(f"OLD.{f} IS DISTINCT FROM NEW.{f}" for f in fields)
    op.execute("DROP TRIGGER auth_user_updated ON users")
    op.execute(
        f"CREATE TRIGGER auth_user_updated AFTER UPDATE ON users FOR EACH ROW WHEN ({changed}) "
        "EXECUTE FUNCTION auth_user_changed()"
    )


def upgrade() -> None:
    """Add the authority seal column; a changed seal ends remembered sessions."""
    op.add_column("users", sa.Column("authority_mac", sa.LargeBinary(), nullable=True))
    _user_trigger((*USER_FIELDS, "authority_mac"))


def downgrade() -> None:
    """Drop the authority seal column and restore the trigger without it."""
    _user_trigger(USER_FIELDS)
    op.drop_column("users", "authority_mac")
