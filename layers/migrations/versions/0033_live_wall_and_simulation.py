"""the large screen and the demo simulation: geofence alerts in the inbox

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-03

A message now brings either a record or a geofence alert to its recipient:
``messages.record_id`` may be empty, ``alert_id`` names the alert (deleted with it),
and exactly one of the two is set.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Let a message bring a geofence alert instead of a record."""
    op.alter_column("messages", "record_id", existing_type=sa.BigInteger(), nullable=True)
    op.add_column("messages", sa.Column("alert_id", sa.BigInteger(), nullable=True))
    op.create_foreign_key("fk_messages_alert_id_geofence_alerts", "messages", "geofence_alerts",
                          ["alert_id"], ["id"], ondelete="CASCADE")  # fmt: skip
    op.create_index("ix_messages_alert_id", "messages", ["alert_id"],
                    postgresql_where=sa.text("alert_id IS NOT NULL"))  # fmt: skip
    op.create_check_constraint("ck_messages_one_subject", "messages",
                               "(record_id IS NULL) <> (alert_id IS NULL)")  # fmt: skip


def downgrade() -> None:
    """Drop the alerts' messages and make every message a record's again."""
    op.execute("DELETE FROM messages WHERE record_id IS NULL")
    op.drop_constraint("ck_messages_one_subject", "messages", type_="check")
    op.drop_index("ix_messages_alert_id", table_name="messages")
    op.drop_constraint("fk_messages_alert_id_geofence_alerts", "messages", type_="foreignkey")
    op.drop_column("messages", "alert_id")
    op.alter_column("messages", "record_id", existing_type=sa.BigInteger(), nullable=False)
