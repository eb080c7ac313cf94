"""security training: courses, content, quizzes, plans, progress, certificates

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-03

The tables of ``layers.training.models``. Industries are the units' categories, with their
Chinese names. Resource bytes are stored out of line uncompressed (``STORAGE EXTERNAL``,
as 0017's attachments): PDFs and videos are compressed already, and PostgreSQL then reads
a ``substring`` of a value from the TOAST chunks it covers only, which is how a range
request reads a slice of a video without the rest. ``unit_training`` is to training what
``feature_risks`` is to hazards: statement triggers hand the units whose row changed to
0018's ``feature_risks_box_changed``, so their tiles are dropped from every worker's cache
once the write commits.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

INDUSTRIES = (
    ("company", "企业"), ("school", "学校"), ("hospital", "医院"), ("mall", "商场"),
    ("hotel", "旅馆"), ("gas_station", "加油站"), ("bank", "金融机构"),
    ("government", "机关单位"), ("transit_operator", "公共交通"), ("factory", "工厂"),
)  # fmt: skip
TABLES = (
    "training_certificates", "training_progress", "training_plan_courses",
    "training_course_resources", "training_attempts", "training_assignments", "unit_training",
    "training_resource_contents", "training_plans", "training_notices", "training_courses",
    "training_resources", "training_industries",
)  # fmt: skip
# A unit whose counts or deadline change has its tiles redrawn; an unchanged recount, nothing.
_TRAINING_CHANGED = """
CREATE FUNCTION unit_training_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM feature_risks_box_changed('units', array_agg(n.unit_id)) FROM new_rows AS n;
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM feature_risks_box_changed('units', array_agg(o.unit_id)) FROM old_rows AS o;
    ELSE
        PERFORM feature_risks_box_changed('units', array_agg(unit_id))
        FROM new_rows AS n FULL JOIN old_rows AS o USING (unit_id)
        WHERE n.assigned IS DISTINCT FROM o.assigned OR n.passed IS DISTINCT FROM o.passed
           OR n.due IS DISTINCT FROM o.due
        HAVING count(*) > 0;
    END IF;
    RETURN NULL;
END $$
"""
_TRIGGERS = (
    ("insert", "INSERT", "REFERENCING NEW TABLE AS new_rows"),
    ("update", "UPDATE", "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    ("delete", "DELETE", "REFERENCING OLD TABLE AS old_rows"),
)


def upgrade() -> None:
    """Create the training tables, name the industries, redraw units whose training changes."""
    op.create_table(
        "training_industries",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_training_industries")),
    )
    op.create_table(
        "training_resources",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("media_type", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sm3", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("creator_name", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("kind IN ('document','video')", name=op.f("ck_training_resources_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_resources")),
        sa.UniqueConstraint("sm3", name=op.f("uq_training_resources_sm3")),
    )
    op.create_table(
        "training_courses",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.String(length=5000), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("pass_mark", sa.SmallInteger(), nullable=False),
        sa.Column("questions", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("quiz_version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("district_id", sa.BigInteger(), nullable=True),
        sa.Column("precinct_id", sa.BigInteger(), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("creator_name", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "state IN ('draft','published','retired')", name=op.f("ck_training_courses_state")
        ),
        sa.CheckConstraint(
            "pass_mark BETWEEN 0 AND 100", name=op.f("ck_training_courses_pass_mark")
        ),
        sa.ForeignKeyConstraint(
            ["district_id"],
            ["districts.id"],
            name=op.f("fk_training_courses_district_id_districts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["precinct_id"],
            ["precincts.id"],
            name=op.f("fk_training_courses_precinct_id_precincts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_courses")),
    )
    op.create_table(
        "training_notices",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.String(length=20000), nullable=False),
        sa.Column("industries", postgresql.ARRAY(sa.String(length=32)), nullable=False),
        sa.Column("district_id", sa.BigInteger(), nullable=True),
        sa.Column("precinct_id", sa.BigInteger(), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("creator_name", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["district_id"],
            ["districts.id"],
            name=op.f("fk_training_notices_district_id_districts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["precinct_id"],
            ["precincts.id"],
            name=op.f("fk_training_notices_precinct_id_precincts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_notices")),
    )
    op.create_table(
        "training_plans",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("industries", postgresql.ARRAY(sa.String(length=32)), nullable=False),
        sa.Column("unit_ids", postgresql.ARRAY(sa.BigInteger()), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("district_id", sa.BigInteger(), nullable=True),
        sa.Column("precinct_id", sa.BigInteger(), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("creator_name", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("state IN ('active','withdrawn')", name=op.f("ck_training_plans_state")),
        sa.ForeignKeyConstraint(
            ["district_id"],
            ["districts.id"],
            name=op.f("fk_training_plans_district_id_districts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["precinct_id"],
            ["precincts.id"],
            name=op.f("fk_training_plans_precinct_id_precincts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_plans")),
    )
    op.create_table(
        "training_resource_contents",
        sa.Column("resource_id", sa.BigInteger(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["training_resources.id"],
            name=op.f("fk_training_resource_contents_resource_id_training_resources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("resource_id", name=op.f("pk_training_resource_contents")),
    )
    op.create_table(
        "unit_training",
        sa.Column("unit_id", sa.BigInteger(), nullable=False),
        sa.Column("assigned", sa.Integer(), nullable=False),
        sa.Column("passed", sa.Integer(), nullable=False),
        sa.Column("due", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_unit_training_unit_id_units"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("unit_id", name=op.f("pk_unit_training")),
    )
    op.create_table(
        "training_assignments",
        sa.Column("plan_id", sa.BigInteger(), nullable=False),
        sa.Column("course_id", sa.BigInteger(), nullable=False),
        sa.Column("unit_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["training_courses.id"],
            name=op.f("fk_training_assignments_course_id_training_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["training_plans.id"],
            name=op.f("fk_training_assignments_plan_id_training_plans"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_training_assignments_unit_id_units"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "plan_id", "course_id", "unit_id", name=op.f("pk_training_assignments")
        ),
    )
    op.create_index(
        "ix_training_assignments_unit_id",
        "training_assignments",
        ["unit_id", "course_id"],
        unique=False,
    )
    op.create_table(
        "training_attempts",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("unit_id", sa.BigInteger(), nullable=False),
        sa.Column("course_id", sa.BigInteger(), nullable=False),
        sa.Column("quiz_version", sa.Integer(), nullable=False),
        sa.Column("answers", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["training_courses.id"],
            name=op.f("fk_training_attempts_course_id_training_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_training_attempts_unit_id_units"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_training_attempts_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_attempts")),
    )
    op.create_index(
        "ix_training_attempts_user_id", "training_attempts", ["user_id", "course_id"], unique=False
    )
    op.create_table(
        "training_course_resources",
        sa.Column("course_id", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("resource_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["training_courses.id"],
            name=op.f("fk_training_course_resources_course_id_training_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["training_resources.id"],
            name=op.f("fk_training_course_resources_resource_id_training_resources"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("course_id", "position", name=op.f("pk_training_course_resources")),
    )
    op.create_index(
        "ix_training_course_resources_resource_id",
        "training_course_resources",
        ["resource_id"],
        unique=False,
    )
    op.create_table(
        "training_plan_courses",
        sa.Column("plan_id", sa.BigInteger(), nullable=False),
        sa.Column("course_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["training_courses.id"],
            name=op.f("fk_training_plan_courses_course_id_training_courses"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["training_plans.id"],
            name=op.f("fk_training_plan_courses_plan_id_training_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("plan_id", "course_id", name=op.f("pk_training_plan_courses")),
    )
    op.create_index(
        "ix_training_plan_courses_course_id", "training_plan_courses", ["course_id"], unique=False
    )
    op.create_table(
        "training_progress",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("course_id", sa.BigInteger(), nullable=False),
        sa.Column("unit_id", sa.BigInteger(), nullable=False),
        sa.Column("viewed", postgresql.ARRAY(sa.BigInteger()), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("best_score", sa.SmallInteger(), nullable=True),
        sa.Column("passed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["training_courses.id"],
            name=op.f("fk_training_progress_course_id_training_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_training_progress_unit_id_units"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_training_progress_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "course_id", name=op.f("pk_training_progress")),
    )
    op.create_table(
        "training_certificates",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("learner_name", sa.String(length=64), nullable=False),
        sa.Column("unit_id", sa.BigInteger(), nullable=False),
        sa.Column("course_id", sa.BigInteger(), nullable=False),
        sa.Column("attempt_id", sa.BigInteger(), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column(
            "issued_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["training_attempts.id"],
            name=op.f("fk_training_certificates_attempt_id_training_attempts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["training_courses.id"],
            name=op.f("fk_training_certificates_course_id_training_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_training_certificates_unit_id_units"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_training_certificates_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_certificates")),
        sa.UniqueConstraint("number", name=op.f("uq_training_certificates_number")),
        sa.UniqueConstraint(
            "user_id", "course_id", name=op.f("uq_training_certificates_user_id_course_id")
        ),
    )
    op.create_index(
        "ix_training_certificates_unit_id",
        "training_certificates",
        ["unit_id", "course_id"],
        unique=False,
    )

    op.execute("ALTER TABLE training_resource_contents ALTER COLUMN content SET STORAGE EXTERNAL")
    industries = sa.table("training_industries", sa.column("code"), sa.column("name"))
    op.bulk_insert(industries, [{"code": code, "name": name} for code, name in INDUSTRIES])
    op.execute(_TRAINING_CHANGED)
    for name, event, referencing in _TRIGGERS:
        op.execute(
            f"CREATE TRIGGER unit_training_changed_{name} AFTER {event} ON unit_training "
            f"{referencing} FOR EACH STATEMENT EXECUTE FUNCTION unit_training_changed()"
        )


def downgrade() -> None:
    """Drop the training tables and their trigger."""
    op.execute("DROP TABLE unit_training")  # its triggers with it
    op.execute("DROP FUNCTION unit_training_changed()")
    for table in TABLES:
        if table != "unit_training":
            op.drop_table(table)
