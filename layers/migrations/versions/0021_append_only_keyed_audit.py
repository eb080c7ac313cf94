"""audit append-only for the application role, keyed chain

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03

Audit records say the role they were made in (``actor_role``) and the key ring version
of the HMAC-SM3 key that seals them (``key_version``); the records that exist keep a
null version: they stay chained with plain SM3 as they were written, and the first
keyed record seals the last of them (``layers.audit.chain``).

``audit_log`` refuses UPDATE, DELETE and TRUNCATE from every role, the owner's too,
unless its guard triggers are disabled by hand (an act of the owner, in the server's
log). The application's role is refused them anyway, by its grants
(``layers.privileges``, applied after every migration: role names belong to the
deployment, not to the schema).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

GUARD = """
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$
"""


def upgrade() -> None:
    """Add the role and key version of each audit record; refuse changes to the audit log."""
    op.add_column("audit_log", sa.Column("actor_role", sa.String(length=32), nullable=True))
    op.add_column("audit_log", sa.Column("key_version", sa.Integer(), nullable=True))
    op.execute(GUARD)
    op.execute("CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log "
               "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()")  # fmt: skip
    op.execute("CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
               "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()")  # fmt: skip


def downgrade() -> None:
    """Drop the guard and the two columns (keyed records then no longer verify)."""
    op.execute("DROP TRIGGER audit_log_no_truncate ON audit_log")
    op.execute("DROP TRIGGER audit_log_no_change ON audit_log")
    op.execute("DROP FUNCTION audit_log_append_only()")
    op.drop_column("audit_log", "key_version")
    op.drop_column("audit_log", "actor_role")
