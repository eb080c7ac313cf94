"""records: business records on features, their links and workflow history

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03

One ``records`` table for every kind (tasks, hazards, inspections...: the kind's own
fields in ``details``), ``record_links`` from a record to any feature of any layer
(looked up by feature for a feature's timeline) and ``record_transitions``, the
workflow steps taken. ``feature_risks`` keeps each feature's open hazards;
``form_templates`` the versions of every form (JSON Schema and scoring);
``messages`` every user's and unit's inbox, with read receipts.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import JSONB

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


_COUNT_FUNCTIONS = """
CREATE FUNCTION records_count_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO record_counts AS c (topic, kind, state, district_id, precinct_id, n)
    SELECT topic, kind, state, coalesce(district_id, -1), coalesce(precinct_id, -1), count(*)
    FROM added GROUP BY 1, 2, 3, 4, 5
    ON CONFLICT (topic, kind, state, district_id, precinct_id) DO UPDATE SET n = c.n + EXCLUDED.n;
    RETURN NULL;
END $$;
CREATE FUNCTION records_count_remove() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE record_counts AS c SET n = c.n - r.n
    FROM (SELECT topic, kind, state, coalesce(district_id, -1) AS d,
                 coalesce(precinct_id, -1) AS p, count(*) AS n
          FROM removed GROUP BY 1, 2, 3, 4, 5) AS r
    WHERE (c.topic, c.kind, c.state, c.district_id, c.precinct_id)
        = (r.topic, r.kind, r.state, r.d, r.p);
    RETURN NULL;
END $$;
CREATE FUNCTION records_count_clear() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE record_counts;
    RETURN NULL;
END $$;
CREATE TRIGGER records_count_insert AFTER INSERT ON records
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION records_count_add();
CREATE TRIGGER records_count_delete AFTER DELETE ON records
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION records_count_remove();
CREATE TRIGGER records_count_update_old AFTER UPDATE ON records
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION records_count_remove();
CREATE TRIGGER records_count_update_new AFTER UPDATE ON records
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION records_count_add();
CREATE TRIGGER records_count_truncate AFTER TRUNCATE ON records
    FOR EACH STATEMENT EXECUTE FUNCTION records_count_clear();
"""


def upgrade() -> None:
    op.create_table(
        "records",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("topic", sa.String(32), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("priority", sa.SmallInteger(), server_default="2", nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("overdue_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("details", JSONB(), server_default="{}", nullable=False),
        sa.Column("geom", Geometry("POINT", srid=4326, spatial_index=False), nullable=True),
        sa.Column("district_id", sa.BigInteger(), nullable=True),
        sa.Column("precinct_id", sa.BigInteger(), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["district_id"],
            ["districts.id"],
            ondelete="SET NULL",
            name="fk_records_district_id_districts",
        ),
        sa.ForeignKeyConstraint(
            ["precinct_id"],
            ["precincts.id"],
            ondelete="SET NULL",
            name="fk_records_precinct_id_precincts",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_records"),
    )
    op.create_index("ix_records_geom", "records", ["geom"], postgresql_using="gist")
    op.create_index("ix_records_kind_state", "records", ["kind", "state"])
    op.create_index("ix_records_topic", "records", ["topic"])
    op.create_index("ix_records_district_id", "records", ["district_id"])
    op.create_index("ix_records_precinct_id", "records", ["precinct_id"])
    op.create_index("ix_records_due_at", "records", ["due_at"],
                    postgresql_where=sa.text("due_at IS NOT NULL"))  # fmt: skip
    op.create_index("ix_records_window", "records", ["kind", "ends_at", "starts_at"],
                    postgresql_where=sa.text("starts_at IS NOT NULL"))  # fmt: skip
    op.create_table(
        "record_links",
        sa.Column("record_id", sa.BigInteger(), nullable=False),
        sa.Column("layer", sa.String(32), nullable=False),
        sa.Column("feature_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["records.id"],
            ondelete="CASCADE",
            name="fk_record_links_record_id_records",
        ),
        sa.PrimaryKeyConstraint("record_id", "layer", "feature_id", name="pk_record_links"),
    )
    op.create_index("ix_record_links_feature", "record_links",
                    ["layer", "feature_id", "record_id"])  # fmt: skip
    op.create_table(
        "record_transitions",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("record_id", sa.BigInteger(), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("from_state", sa.String(32), nullable=True),
        sa.Column("to_state", sa.String(32), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("actor_name", sa.String(64), nullable=False),
        sa.Column("note", sa.String(2000), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["records.id"],
            ondelete="CASCADE",
            name="fk_record_transitions_record_id_records",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_record_transitions"),
    )
    op.create_index("ix_record_transitions_record_id", "record_transitions", ["record_id"])
    op.create_table(
        "record_comments",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("record_id", sa.BigInteger(), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("actor_name", sa.String(64), nullable=False),
        sa.Column("body", sa.String(5000), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["records.id"],
            ondelete="CASCADE",
            name="fk_record_comments_record_id_records",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_record_comments"),
    )
    op.create_index("ix_record_comments_record_id", "record_comments", ["record_id"])
    op.create_table(
        "messages",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("recipient_type", sa.String(8), nullable=False),
        sa.Column("recipient_id", sa.BigInteger(), nullable=False),
        sa.Column("record_id", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("read_by", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["records.id"],
            ondelete="CASCADE",
            name="fk_messages_record_id_records",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_messages"),
    )
    op.create_index("ix_messages_recipient", "messages",
                    ["recipient_type", "recipient_id", "id"])  # fmt: skip
    op.create_index("ix_messages_record_id", "messages", ["record_id"])
    op.create_table(
        "form_templates",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("form_kind", sa.String(32), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("schema", JSONB(), nullable=False),
        sa.Column("scoring", JSONB(), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name="pk_form_templates"),
        sa.UniqueConstraint("code", "version", name="uq_form_templates_code_version"),
    )
    op.create_table(
        "record_counts",
        sa.Column("topic", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("district_id", sa.BigInteger(), nullable=False),
        sa.Column("precinct_id", sa.BigInteger(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "topic", "kind", "state", "district_id", "precinct_id", name="pk_record_counts"
        ),
    )
    op.execute(_COUNT_FUNCTIONS)
    op.create_table(
        "feature_risks",
        sa.Column("layer", sa.String(32), nullable=False),
        sa.Column("feature_id", sa.BigInteger(), nullable=False),
        sa.Column("open_hazards", sa.Integer(), nullable=False),
        sa.Column("hazard_level", sa.SmallInteger(), nullable=False),
        sa.PrimaryKeyConstraint("layer", "feature_id", name="pk_feature_risks"),
    )


def downgrade() -> None:
    op.drop_table("feature_risks")
    op.drop_table("record_counts")
    for name in ("records_count_add", "records_count_remove", "records_count_clear"):
        op.execute(f"DROP FUNCTION {name}() CASCADE")
    op.drop_table("form_templates")
    op.drop_table("messages")
    op.drop_table("record_comments")
    op.drop_table("record_transitions")
    op.drop_table("record_links")
    op.drop_table("records")
