"""security perimeters with versioned rings

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03

``perimeters`` (name, linked activity, time window, the union of its rings),
``perimeter_rings`` (core / control / outer: how each was drawn and its shape, with
vertices along geodesics), ``perimeter_cells`` (the H3 cells of the rings, whole or on
an edge) and ``perimeter_versions`` (every version's content, kept when the perimeter
is edited). Three indexes serve the contents of a perimeter: units by cell with what
they are counted by (an index-only scan), open hazards and activities by place.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import JSONB

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def _multipolygon() -> Geometry:
    return Geometry("MULTIPOLYGON", srid=4326, spatial_index=False)


def upgrade() -> None:
    """Create the perimeter tables."""
    now = sa.text("now()")
    op.create_table(
        "perimeters",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("activity_id", sa.BigInteger(), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("extent", _multipolygon(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=now, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=now, nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_perimeters_window")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_perimeters")),
    )
    op.create_index("ix_perimeters_activity_id", "perimeters", ["activity_id"])
    op.create_index("ix_perimeters_extent", "perimeters", ["extent"], postgresql_using="gist")
    op.create_index("ix_perimeters_window", "perimeters", ["starts_at", "ends_at"])
    op.create_table(
        "perimeter_rings",
        sa.Column("perimeter_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("drawn", JSONB(), nullable=False),
        sa.Column("geom", _multipolygon(), nullable=False),
        sa.Column("area_m2", sa.Float(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('core', 'control', 'outer')", name=op.f("ck_perimeter_rings_kind")
        ),
        sa.ForeignKeyConstraint(
            ["perimeter_id"],
            ["perimeters.id"],
            ondelete="CASCADE",
            name=op.f("fk_perimeter_rings_perimeter_id_perimeters"),
        ),
        sa.PrimaryKeyConstraint("perimeter_id", "kind", name=op.f("pk_perimeter_rings")),
    )
    op.create_index("ix_perimeter_rings_geom", "perimeter_rings", ["geom"], postgresql_using="gist")
    op.create_table(
        "perimeter_cells",
        sa.Column("perimeter_id", sa.BigInteger(), nullable=False),
        sa.Column("cell", sa.BigInteger(), nullable=False),
        sa.Column("first", sa.SmallInteger(), nullable=False),
        sa.Column("whole", sa.SmallInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["perimeter_id"],
            ["perimeters.id"],
            ondelete="CASCADE",
            name=op.f("fk_perimeter_cells_perimeter_id_perimeters"),
        ),
        sa.PrimaryKeyConstraint("perimeter_id", "cell", name=op.f("pk_perimeter_cells")),
    )
    op.create_index(
        "ix_units_h3_cell_contents", "units", ["h3_cell"],
        postgresql_include=["id", "category", "risk_level", "district_id", "precinct_id", "geom"],
    )  # fmt: skip
    op.create_index(
        "ix_records_open_hazards_geom", "records", ["geom"], postgresql_using="gist",
        postgresql_where=sa.text("kind = 'hazard' AND state <> 'verified'"),
    )  # fmt: skip
    op.create_index(
        "ix_records_activities_geom", "records", ["geom"], postgresql_using="gist",
        postgresql_where=sa.text("kind = 'activity'"),
    )  # fmt: skip
    op.create_table(
        "perimeter_versions",
        sa.Column("perimeter_id", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content", JSONB(), nullable=False),
        sa.Column("saved_by", sa.BigInteger(), nullable=True),
        sa.Column("saved_by_name", sa.String(64), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), server_default=now, nullable=False),
        sa.ForeignKeyConstraint(
            ["perimeter_id"],
            ["perimeters.id"],
            ondelete="CASCADE",
            name=op.f("fk_perimeter_versions_perimeter_id_perimeters"),
        ),
        sa.PrimaryKeyConstraint("perimeter_id", "version", name=op.f("pk_perimeter_versions")),
    )


def downgrade() -> None:
    """Drop the perimeter tables."""
    op.drop_table("perimeter_versions")
    op.drop_index("ix_records_activities_geom", table_name="records")
    op.drop_index("ix_records_open_hazards_geom", table_name="records")
    op.drop_index("ix_units_h3_cell_contents", table_name="units")
    op.drop_table("perimeter_cells")
    op.drop_table("perimeter_rings")
    op.drop_table("perimeters")
