"""feature layers, accounts, audit and events

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("actor_name", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target_type", sa.String(length=64), nullable=False),
        sa.Column("target_id", sa.String(length=64), nullable=True),
        sa.Column("result", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=True),
        sa.Column("client", sa.String(length=200), nullable=True),
        sa.Column("before", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("after", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("chain_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_actor_id"), "audit_log", ["actor_id"], unique=False)
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"], unique=False)
    op.create_index("ix_audit_log_target", "audit_log", ["target_type", "target_id"], unique=False)
    op.create_table(
        "bus_stations",
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("code", sa.String(length=32), nullable=True),
        sa.Column("lines", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("h3_cell", sa.BigInteger(), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
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
        sa.Column("district_id", sa.BigInteger(), nullable=True),
        sa.Column("precinct_id", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bus_stations")),
        sa.UniqueConstraint("external_id", name=op.f("uq_bus_stations_external_id")),
    )
    op.create_index(
        op.f("ix_bus_stations_district_id"), "bus_stations", ["district_id"], unique=False
    )
    op.create_index(
        "ix_bus_stations_geom", "bus_stations", ["geom"], unique=False, postgresql_using="gist"
    )
    op.create_index(op.f("ix_bus_stations_h3_cell"), "bus_stations", ["h3_cell"], unique=False)
    op.create_index(
        "ix_bus_stations_name_trgm",
        "bus_stations",
        ["name"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"name": "gin_trgm_ops"},
    )
    op.create_index(
        op.f("ix_bus_stations_precinct_id"), "bus_stations", ["precinct_id"], unique=False
    )
    op.create_table(
        "construction_sites",
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("project", sa.String(length=200), nullable=True),
        sa.Column("contractor", sa.String(length=200), nullable=True),
        sa.Column("is_rail", sa.Boolean(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("h3_cover", postgresql.ARRAY(sa.BigInteger()), nullable=True),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("h3_cell", sa.BigInteger(), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
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
        sa.Column("district_id", sa.BigInteger(), nullable=True),
        sa.Column("precinct_id", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_construction_sites")),
        sa.UniqueConstraint("external_id", name=op.f("uq_construction_sites_external_id")),
    )
    op.create_index(
        op.f("ix_construction_sites_district_id"),
        "construction_sites",
        ["district_id"],
        unique=False,
    )
    op.create_index(
        "ix_construction_sites_geom",
        "construction_sites",
        ["geom"],
        unique=False,
        postgresql_using="gist",
    )
    op.create_index(
        op.f("ix_construction_sites_h3_cell"), "construction_sites", ["h3_cell"], unique=False
    )
    op.create_index(
        "ix_construction_sites_h3_cover",
        "construction_sites",
        ["h3_cover"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(
        "ix_construction_sites_name_trgm",
        "construction_sites",
        ["name"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"name": "gin_trgm_ops"},
    )
    op.create_index(
        op.f("ix_construction_sites_precinct_id"),
        "construction_sites",
        ["precinct_id"],
        unique=False,
    )
    op.create_table(
        "districts",
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("parent_code", sa.String(length=32), nullable=True),
        sa.Column("h3_cover", postgresql.ARRAY(sa.BigInteger()), nullable=True),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("h3_cell", sa.BigInteger(), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
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
        sa.Column("district_id", sa.BigInteger(), nullable=True),
        sa.Column("precinct_id", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_districts")),
        sa.UniqueConstraint("code", name=op.f("uq_districts_code")),
        sa.UniqueConstraint("external_id", name=op.f("uq_districts_external_id")),
    )
    op.create_index(op.f("ix_districts_district_id"), "districts", ["district_id"], unique=False)
    op.create_index(
        "ix_districts_geom", "districts", ["geom"], unique=False, postgresql_using="gist"
    )
    op.create_index(op.f("ix_districts_h3_cell"), "districts", ["h3_cell"], unique=False)
    op.create_index(
        "ix_districts_h3_cover", "districts", ["h3_cover"], unique=False, postgresql_using="gin"
    )
    op.create_index(
        "ix_districts_name_trgm",
        "districts",
        ["name"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"name": "gin_trgm_ops"},
    )
    op.create_index(op.f("ix_districts_precinct_id"), "districts", ["precinct_id"], unique=False)
    op.create_table(
        "events",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("layer", sa.String(length=64), nullable=True),
        sa.Column("feature_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "bbox",
            geoalchemy2.types.Geometry(
                geometry_type="POLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    op.create_index("ix_events_layer_feature", "events", ["layer", "feature_id"], unique=False)
    op.create_table(
        "incidents",
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("h3_cell", sa.BigInteger(), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
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
        sa.Column("district_id", sa.BigInteger(), nullable=True),
        sa.Column("precinct_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint("level BETWEEN 1 AND 4", name=op.f("ck_incidents_level")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
        sa.UniqueConstraint("external_id", name=op.f("uq_incidents_external_id")),
    )
    op.create_index(op.f("ix_incidents_category"), "incidents", ["category"], unique=False)
    op.create_index(op.f("ix_incidents_district_id"), "incidents", ["district_id"], unique=False)
    op.create_index(
        "ix_incidents_geom", "incidents", ["geom"], unique=False, postgresql_using="gist"
    )
    op.create_index(op.f("ix_incidents_h3_cell"), "incidents", ["h3_cell"], unique=False)
    op.create_index(
        "ix_incidents_name_trgm",
        "incidents",
        ["name"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"name": "gin_trgm_ops"},
    )
    op.create_index("ix_incidents_occurred_at", "incidents", ["occurred_at"], unique=False)
    op.create_index(op.f("ix_incidents_precinct_id"), "incidents", ["precinct_id"], unique=False)
    op.create_index(op.f("ix_incidents_status"), "incidents", ["status"], unique=False)
    op.create_table(
        "key_station_areas",
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("station", sa.String(length=200), nullable=True),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("h3_cover", postgresql.ARRAY(sa.BigInteger()), nullable=True),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("h3_cell", sa.BigInteger(), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
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
        sa.Column("district_id", sa.BigInteger(), nullable=True),
        sa.Column("precinct_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint("level BETWEEN 1 AND 3", name=op.f("ck_key_station_areas_level")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_station_areas")),
        sa.UniqueConstraint("external_id", name=op.f("uq_key_station_areas_external_id")),
    )
    op.create_index(
        op.f("ix_key_station_areas_district_id"), "key_station_areas", ["district_id"], unique=False
    )
    op.create_index(
        "ix_key_station_areas_geom",
        "key_station_areas",
        ["geom"],
        unique=False,
        postgresql_using="gist",
    )
    op.create_index(
        op.f("ix_key_station_areas_h3_cell"), "key_station_areas", ["h3_cell"], unique=False
    )
    op.create_index(
        "ix_key_station_areas_h3_cover",
        "key_station_areas",
        ["h3_cover"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(
        "ix_key_station_areas_name_trgm",
        "key_station_areas",
        ["name"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"name": "gin_trgm_ops"},
    )
    op.create_index(
        op.f("ix_key_station_areas_precinct_id"), "key_station_areas", ["precinct_id"], unique=False
    )
    op.create_table(
        "parks",
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("grade", sa.String(length=4), nullable=True),
        sa.Column("opening_hours", sa.String(length=64), nullable=True),
        sa.Column("h3_cover", postgresql.ARRAY(sa.BigInteger()), nullable=True),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("h3_cell", sa.BigInteger(), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
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
        sa.Column("district_id", sa.BigInteger(), nullable=True),
        sa.Column("precinct_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint("capacity >= 0", name=op.f("ck_parks_capacity")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parks")),
        sa.UniqueConstraint("external_id", name=op.f("uq_parks_external_id")),
    )
    op.create_index(op.f("ix_parks_district_id"), "parks", ["district_id"], unique=False)
    op.create_index("ix_parks_geom", "parks", ["geom"], unique=False, postgresql_using="gist")
    op.create_index(op.f("ix_parks_h3_cell"), "parks", ["h3_cell"], unique=False)
    op.create_index(
        "ix_parks_h3_cover", "parks", ["h3_cover"], unique=False, postgresql_using="gin"
    )
    op.create_index(
        "ix_parks_name_trgm",
        "parks",
        ["name"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"name": "gin_trgm_ops"},
    )
    op.create_index(op.f("ix_parks_precinct_id"), "parks", ["precinct_id"], unique=False)
    op.create_table(
        "precincts",
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("parent_code", sa.String(length=32), nullable=True),
        sa.Column("h3_cover", postgresql.ARRAY(sa.BigInteger()), nullable=True),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("h3_cell", sa.BigInteger(), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
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
        sa.Column("district_id", sa.BigInteger(), nullable=True),
        sa.Column("precinct_id", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_precincts")),
        sa.UniqueConstraint("code", name=op.f("uq_precincts_code")),
        sa.UniqueConstraint("external_id", name=op.f("uq_precincts_external_id")),
    )
    op.create_index(op.f("ix_precincts_district_id"), "precincts", ["district_id"], unique=False)
    op.create_index(
        "ix_precincts_geom", "precincts", ["geom"], unique=False, postgresql_using="gist"
    )
    op.create_index(op.f("ix_precincts_h3_cell"), "precincts", ["h3_cell"], unique=False)
    op.create_index(
        "ix_precincts_h3_cover", "precincts", ["h3_cover"], unique=False, postgresql_using="gin"
    )
    op.create_index(
        "ix_precincts_name_trgm",
        "precincts",
        ["name"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"name": "gin_trgm_ops"},
    )
    op.create_index(op.f("ix_precincts_precinct_id"), "precincts", ["precinct_id"], unique=False)
    op.create_table(
        "rail_stations",
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("code", sa.String(length=32), nullable=True),
        sa.Column("lines", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("h3_cell", sa.BigInteger(), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
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
        sa.Column("district_id", sa.BigInteger(), nullable=True),
        sa.Column("precinct_id", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rail_stations")),
        sa.UniqueConstraint("external_id", name=op.f("uq_rail_stations_external_id")),
    )
    op.create_index(
        op.f("ix_rail_stations_district_id"), "rail_stations", ["district_id"], unique=False
    )
    op.create_index(
        "ix_rail_stations_geom", "rail_stations", ["geom"], unique=False, postgresql_using="gist"
    )
    op.create_index(op.f("ix_rail_stations_h3_cell"), "rail_stations", ["h3_cell"], unique=False)
    op.create_index(
        "ix_rail_stations_name_trgm",
        "rail_stations",
        ["name"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"name": "gin_trgm_ops"},
    )
    op.create_index(
        op.f("ix_rail_stations_precinct_id"), "rail_stations", ["precinct_id"], unique=False
    )
    op.create_table(
        "units",
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=True),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("risk_level", sa.SmallInteger(), nullable=False),
        sa.Column("is_key_unit", sa.Boolean(), nullable=False),
        sa.Column("contact_name", sa.String(length=64), nullable=True),
        sa.Column("contact_phone", sa.String(length=32), nullable=True),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("h3_cell", sa.BigInteger(), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
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
        sa.Column("district_id", sa.BigInteger(), nullable=True),
        sa.Column("precinct_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint("risk_level BETWEEN 1 AND 4", name=op.f("ck_units_risk_level")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_units")),
        sa.UniqueConstraint("external_id", name=op.f("uq_units_external_id")),
    )
    op.create_index(op.f("ix_units_category"), "units", ["category"], unique=False)
    op.create_index(op.f("ix_units_district_id"), "units", ["district_id"], unique=False)
    op.create_index("ix_units_geom", "units", ["geom"], unique=False, postgresql_using="gist")
    op.create_index(op.f("ix_units_h3_cell"), "units", ["h3_cell"], unique=False)
    op.create_index(
        "ix_units_name_trgm",
        "units",
        ["name"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"name": "gin_trgm_ops"},
    )
    op.create_index(op.f("ix_units_precinct_id"), "units", ["precinct_id"], unique=False)
    op.create_index(op.f("ix_units_risk_level"), "units", ["risk_level"], unique=False)
    op.create_table(
        "vehicles",
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("plate", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("position_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("h3_cell", sa.BigInteger(), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
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
        sa.Column("district_id", sa.BigInteger(), nullable=True),
        sa.Column("precinct_id", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vehicles")),
        sa.UniqueConstraint("external_id", name=op.f("uq_vehicles_external_id")),
        sa.UniqueConstraint("plate", name=op.f("uq_vehicles_plate")),
    )
    op.create_index(op.f("ix_vehicles_district_id"), "vehicles", ["district_id"], unique=False)
    op.create_index("ix_vehicles_geom", "vehicles", ["geom"], unique=False, postgresql_using="gist")
    op.create_index(op.f("ix_vehicles_h3_cell"), "vehicles", ["h3_cell"], unique=False)
    op.create_index(op.f("ix_vehicles_kind"), "vehicles", ["kind"], unique=False)
    op.create_index(
        "ix_vehicles_name_trgm",
        "vehicles",
        ["name"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"name": "gin_trgm_ops"},
    )
    op.create_index(op.f("ix_vehicles_precinct_id"), "vehicles", ["precinct_id"], unique=False)
    op.create_table(
        "users",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=256), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("district_id", sa.BigInteger(), nullable=True),
        sa.Column("precinct_id", sa.BigInteger(), nullable=True),
        sa.Column("unit_id", sa.BigInteger(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "role IN ('admin','security_admin','auditor','commander','officer',"
            "'planner','tourism','unit')",
            name=op.f("ck_users_role"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "auth_sessions",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("client", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_auth_sessions_token_hash")),
    )
    op.create_index(op.f("ix_auth_sessions_user_id"), "auth_sessions", ["user_id"], unique=False)
    # Foreign keys last: features and jurisdictions reference each other.
    op.create_foreign_key(
        op.f("fk_bus_stations_district_id_districts"),
        "bus_stations",
        "districts",
        ["district_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_foreign_key(
        op.f("fk_bus_stations_precinct_id_precincts"),
        "bus_stations",
        "precincts",
        ["precinct_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_foreign_key(
        op.f("fk_construction_sites_district_id_districts"),
        "construction_sites",
        "districts",
        ["district_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_foreign_key(
        op.f("fk_construction_sites_precinct_id_precincts"),
        "construction_sites",
        "precincts",
        ["precinct_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_foreign_key(
        op.f("fk_districts_district_id_districts"),
        "districts",
        "districts",
        ["district_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_foreign_key(
        op.f("fk_districts_precinct_id_precincts"),
        "districts",
        "precincts",
        ["precinct_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_foreign_key(
        op.f("fk_incidents_district_id_districts"),
        "incidents",
        "districts",
        ["district_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_foreign_key(
        op.f("fk_incidents_precinct_id_precincts"),
        "incidents",
        "precincts",
        ["precinct_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_foreign_key(
        op.f("fk_key_station_areas_district_id_districts"),
        "key_station_areas",
        "districts",
        ["district_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_foreign_key(
        op.f("fk_key_station_areas_precinct_id_precincts"),
        "key_station_areas",
        "precincts",
        ["precinct_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_foreign_key(
        op.f("fk_parks_district_id_districts"),
        "parks",
        "districts",
        ["district_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_foreign_key(
        op.f("fk_parks_precinct_id_precincts"),
        "parks",
        "precincts",
        ["precinct_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_foreign_key(
        op.f("fk_precincts_district_id_districts"),
        "precincts",
        "districts",
        ["district_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_foreign_key(
        op.f("fk_precincts_precinct_id_precincts"),
        "precincts",
        "precincts",
        ["precinct_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_foreign_key(
        op.f("fk_rail_stations_district_id_districts"),
        "rail_stations",
        "districts",
        ["district_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_foreign_key(
        op.f("fk_rail_stations_precinct_id_precincts"),
        "rail_stations",
        "precincts",
        ["precinct_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_foreign_key(
        op.f("fk_units_district_id_districts"),
        "units",
        "districts",
        ["district_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_foreign_key(
        op.f("fk_units_precinct_id_precincts"),
        "units",
        "precincts",
        ["precinct_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_foreign_key(
        op.f("fk_vehicles_district_id_districts"),
        "vehicles",
        "districts",
        ["district_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_foreign_key(
        op.f("fk_vehicles_precinct_id_precincts"),
        "vehicles",
        "precincts",
        ["precinct_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_foreign_key(
        op.f("fk_users_district_id_districts"),
        "users",
        "districts",
        ["district_id"],
        ["id"],
        ondelete="RESTRICT",
    )
    op.create_foreign_key(
        op.f("fk_users_precinct_id_precincts"),
        "users",
        "precincts",
        ["precinct_id"],
        ["id"],
        ondelete="RESTRICT",
    )
    op.create_foreign_key(
        op.f("fk_users_unit_id_units"), "users", "units", ["unit_id"], ["id"], ondelete="RESTRICT"
    )
    op.create_foreign_key(
        op.f("fk_auth_sessions_user_id_users"),
        "auth_sessions",
        "users",
        ["user_id"],
        ["id"],
        ondelete="CASCADE",
    )


def downgrade() -> None:
    for table in [
        "audit_log",
        "bus_stations",
        "construction_sites",
        "districts",
        "events",
        "incidents",
        "key_station_areas",
        "parks",
        "precincts",
        "rail_stations",
        "units",
        "vehicles",
        "users",
        "auth_sessions",
    ]:
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
