"""password history and age, first-login change, second factor

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03

Users get the date of their password, a must-change flag (set for every user that exists
now: their passwords predate the policy) and a TOTP secret (sealed with SM4-GCM under the
key ring's ``totp`` key, never stored plain) with the last time step used.
``password_history`` keeps argon2 hashes of past passwords. Triggers tell every worker, on
channel ``warroom_auth`` and only when the transaction commits, which session ended (``s
<token digest>``) or which user changed (``u <id>``), so no worker goes on trusting a
remembered session (``layers.accounts.revocations``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

CHANNEL = "warroom_auth"
SESSION_ENDED = f"""
CREATE FUNCTION auth_session_ended() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('{CHANNEL}', 's ' || OLD.token_hash);
    RETURN NULL;
END $$
"""
USER_CHANGED = f"""
CREATE FUNCTION auth_user_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('{CHANNEL}', 'u ' || OLD.id);
    RETURN NULL;
END $$
"""
# What a remembered session depends on; the TOTP step a login writes is not among them.
USER_FIELDS = (
    "username", "password_hash", "role", "district_id", "precinct_id", "unit_id", "is_active",
    "password_changed_at", "password_must_change", "totp_confirmed_at",
)  # fmt: skip


def upgrade() -> None:
    """Add password age, history and the second factor; notify workers of ended sessions."""
    op.add_column(
        "users",
        sa.Column("password_changed_at", sa.DateTime(timezone=True),
                  server_default=sa.text("now()"), nullable=False),
    )  # fmt: skip
    op.add_column(
        "users",
        sa.Column("password_must_change", sa.Boolean(), server_default=sa.true(), nullable=False),
    )
    op.add_column("users", sa.Column("totp_secret_sealed", sa.LargeBinary(), nullable=True))
    op.add_column(
        "users", sa.Column("totp_confirmed_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("users", sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
    op.create_table(
        "password_history",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("password_hash", sa.String(length=256), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_password_history_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_history")),
    )
    op.create_index(
        op.f("ix_password_history_user_id"), "password_history", ["user_id"], unique=False
    )
    op.execute(SESSION_ENDED)
    op.execute(USER_CHANGED)
    op.execute(
        "CREATE TRIGGER auth_session_revoked AFTER UPDATE OF revoked_at ON auth_sessions "
        "FOR EACH ROW WHEN (NEW.revoked_at IS NOT NULL AND OLD.revoked_at IS NULL) "
        "EXECUTE FUNCTION auth_session_ended()"
    )
    op.execute(
        "CREATE TRIGGER auth_session_deleted AFTER DELETE ON auth_sessions "
        "FOR EACH ROW EXECUTE FUNCTION auth_session_ended()"
    )
    changed = " OR ".join(f"OLD.{f} IS DISTINCT FROM NEW.{f}" for f in USER_FIELDS)
    op.execute(
        f"CREATE TRIGGER auth_user_updated AFTER UPDATE ON users FOR EACH ROW WHEN ({changed}) "
        "EXECUTE FUNCTION auth_user_changed()"
    )
    op.execute(
        "CREATE TRIGGER auth_user_deleted AFTER DELETE ON users "
        "FOR EACH ROW EXECUTE FUNCTION auth_user_changed()"
    )


def downgrade() -> None:
    """Drop the triggers, the history and the new user columns."""
    for trigger, table in (
        ("auth_user_deleted", "users"),
        ("auth_user_updated", "users"),
        ("auth_session_deleted", "auth_sessions"),
        ("auth_session_revoked", "auth_sessions"),
    ):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
    op.execute("DROP FUNCTION IF EXISTS auth_user_changed()")
    op.execute("DROP FUNCTION IF EXISTS auth_session_ended()")
    op.drop_index(op.f("ix_password_history_user_id"), table_name="password_history")
    op.drop_table("password_history")
    for column in (
        "totp_last_step", "totp_confirmed_at", "totp_secret_sealed", "password_must_change",
        "password_changed_at",
    ):  # fmt: skip
        op.drop_column("users", column)
