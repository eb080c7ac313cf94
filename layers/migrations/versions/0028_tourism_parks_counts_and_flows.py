"""tourism: parks, visitor counts (time-partitioned), occupancy alerts, flows, topic maps

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-03

Parks get a daily capacity beside their instantaneous one, and alert thresholds of their
own (``park_levels``). ``tourism_points`` are a park's gates, counters, cameras and
scenic spots; ``park_relations`` ties a park to them and to the stations and stops
within walking distance. ``visitor_counts`` (one row per point and instant, partitioned
by range of ``at``, a partition per UTC day made by ``make_day_partition``) is rolled up
on ingest into ``park_buckets`` (5 minutes) and ``park_days`` (the local day);
``park_alert_states`` and ``park_alerts`` keep the levels crossed. ``tourism_flows``
holds origin-destination volumes, ``park_vehicles`` the vehicles tied to a park,
``tourism_activities`` special activities and ``topic_maps`` named map configurations.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

# One maker at a time (an advisory lock); one that lost the race finds the table made.
MAKE_PARTITION = """
CREATE FUNCTION make_day_partition(parent text, day date) RETURNS regclass
LANGUAGE plpgsql AS $$
DECLARE
    name text := parent || '_' || to_char(day, 'YYYYMMDD');
BEGIN
    IF to_regclass(name) IS NULL THEN
        PERFORM pg_advisory_xact_lock(hashtext('make_day_partition'), hashtext(parent));
        BEGIN
            EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                           name, parent, day::timestamp AT TIME ZONE 'UTC',
                           (day + 1)::timestamp AT TIME ZONE 'UTC');
        EXCEPTION WHEN duplicate_table OR unique_violation THEN
            NULL;
        END;
    END IF;
    RETURN to_regclass(name);
END $$
"""


def upgrade() -> None:
    """Create the tourism tables, the partitioned counts and their partition maker."""
    op.add_column("parks", sa.Column("daily_capacity", sa.Integer(), nullable=True))
    op.create_check_constraint(op.f("ck_parks_daily_capacity"), "parks", "daily_capacity >= 0")
    op.create_table(
        "tourism_points",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("park_id", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.String(64, collation="C"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("counts", sa.Boolean(), nullable=False),
        sa.Column("geom", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('gate', 'counter', 'camera', 'spot')", name=op.f("ck_tourism_points_kind")
        ),
        sa.ForeignKeyConstraint(
            ["park_id"],
            ["parks.id"],
            ondelete="CASCADE",
            name=op.f("fk_tourism_points_park_id_parks"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tourism_points")),
        sa.UniqueConstraint("code", name=op.f("uq_tourism_points_code")),
    )
    op.create_index("ix_tourism_points_geom", "tourism_points", ["geom"], postgresql_using="gist")
    op.create_index("ix_tourism_points_park_id", "tourism_points", ["park_id"])
    op.create_table(
        "park_levels",
        sa.Column("park_id", sa.BigInteger(), nullable=False),
        *(
            sa.Column(c, sa.SmallInteger(), nullable=False)
            for c in ("yellow", "orange", "red", "stop")
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "0 < yellow AND yellow < orange AND orange < red AND red < stop AND stop <= 200",
            name=op.f("ck_park_levels_ascending"),
        ),
        sa.ForeignKeyConstraint(
            ["park_id"], ["parks.id"], ondelete="CASCADE", name=op.f("fk_park_levels_park_id_parks")
        ),
        sa.PrimaryKeyConstraint("park_id", name=op.f("pk_park_levels")),
    )
    op.create_table(
        "visitor_counts",
        sa.Column("point_id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("entered", sa.Integer(), nullable=False),
        sa.Column("exited", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("point_id", "at", name=op.f("pk_visitor_counts")),
        postgresql_partition_by="RANGE (at)",
    )
    op.execute(MAKE_PARTITION)
    op.create_table(
        "park_buckets",
        sa.Column("park_id", sa.BigInteger(), nullable=False),
        sa.Column("bucket", sa.DateTime(timezone=True), nullable=False),
        sa.Column("entered", sa.BigInteger(), nullable=False),
        sa.Column("exited", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("park_id", "bucket", name=op.f("pk_park_buckets")),
    )
    op.create_table(
        "park_days",
        sa.Column("park_id", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("entered", sa.BigInteger(), nullable=False),
        sa.Column("exited", sa.BigInteger(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("park_id", "day", name=op.f("pk_park_days")),
    )
    op.create_table(
        "park_alert_states",
        sa.Column("park_id", sa.BigInteger(), nullable=False),
        sa.Column("basis", sa.String(8), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint(
            "basis IN ('instant', 'daily')", name=op.f("ck_park_alert_states_basis")
        ),
        sa.ForeignKeyConstraint(
            ["park_id"],
            ["parks.id"],
            ondelete="CASCADE",
            name=op.f("fk_park_alert_states_park_id_parks"),
        ),
        sa.PrimaryKeyConstraint("park_id", "basis", name=op.f("pk_park_alert_states")),
    )
    levels = "('normal', 'yellow', 'orange', 'red', 'stop')"
    op.create_table(
        "park_alerts",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("park_id", sa.BigInteger(), nullable=False),
        sa.Column("park_name", sa.String(200), nullable=False),
        sa.Column("basis", sa.String(8), nullable=False),
        sa.Column("level", sa.String(8), nullable=False),
        sa.Column("previous", sa.String(8), nullable=False),
        sa.Column("visitors", sa.BigInteger(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("ratio", sa.Float(), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.CheckConstraint("basis IN ('instant', 'daily')", name=op.f("ck_park_alerts_basis")),
        sa.CheckConstraint(f"level IN {levels}", name=op.f("ck_park_alerts_level")),
        sa.CheckConstraint(f"previous IN {levels}", name=op.f("ck_park_alerts_previous")),
        sa.ForeignKeyConstraint(
            ["park_id"], ["parks.id"], ondelete="CASCADE", name=op.f("fk_park_alerts_park_id_parks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_park_alerts")),
    )
    op.create_index("ix_park_alerts_park_id", "park_alerts", ["park_id"])
    op.create_table(
        "park_relations",
        sa.Column("park_id", sa.BigInteger(), nullable=False),
        sa.Column("layer", sa.String(32), nullable=False),
        sa.Column("feature_id", sa.BigInteger(), nullable=False),
        sa.Column("distance_m", sa.Float(), nullable=True),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "layer IN ('rail_stations', 'bus_stations', 'tourism_points')",
            name=op.f("ck_park_relations_layer"),
        ),
        sa.CheckConstraint(
            "source IN ('computed', 'manual')", name=op.f("ck_park_relations_source")
        ),
        sa.ForeignKeyConstraint(
            ["park_id"],
            ["parks.id"],
            ondelete="CASCADE",
            name=op.f("fk_park_relations_park_id_parks"),
        ),
        sa.PrimaryKeyConstraint("park_id", "layer", "feature_id", name=op.f("pk_park_relations")),
    )
    op.create_table(
        "tourism_flows",
        sa.Column("origin_kind", sa.String(16), nullable=False),
        sa.Column("origin", sa.String(32, collation="C"), nullable=False),
        sa.Column("park_id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("volume", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "origin_kind IN ('park', 'h3', 'district', 'rail_station')",
            name=op.f("ck_tourism_flows_origin_kind"),
        ),
        sa.CheckConstraint("volume >= 0", name=op.f("ck_tourism_flows_volume")),
        sa.ForeignKeyConstraint(
            ["park_id"],
            ["parks.id"],
            ondelete="CASCADE",
            name=op.f("fk_tourism_flows_park_id_parks"),
        ),
        sa.PrimaryKeyConstraint(
            "origin_kind", "origin", "park_id", "at", name=op.f("pk_tourism_flows")
        ),
    )
    op.create_index("ix_tourism_flows_at", "tourism_flows", ["at"])
    op.create_table(
        "park_vehicles",
        sa.Column("park_id", sa.BigInteger(), nullable=False),
        sa.Column("vehicle_id", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column(
            "since", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.CheckConstraint(
            "source IN ('registered', 'inferred')", name=op.f("ck_park_vehicles_source")
        ),
        sa.ForeignKeyConstraint(
            ["park_id"],
            ["parks.id"],
            ondelete="CASCADE",
            name=op.f("fk_park_vehicles_park_id_parks"),
        ),
        sa.ForeignKeyConstraint(
            ["vehicle_id"],
            ["vehicles.id"],
            ondelete="CASCADE",
            name=op.f("fk_park_vehicles_vehicle_id_vehicles"),
        ),
        sa.PrimaryKeyConstraint("park_id", "vehicle_id", name=op.f("pk_park_vehicles")),
    )
    op.create_index("ix_park_vehicles_vehicle_id", "park_vehicles", ["vehicle_id"])
    op.create_table(
        "tourism_activities",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("park_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expected", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_tourism_activities_window")),
        sa.CheckConstraint("expected >= 0", name=op.f("ck_tourism_activities_expected")),
        sa.ForeignKeyConstraint(
            ["park_id"],
            ["parks.id"],
            ondelete="CASCADE",
            name=op.f("fk_tourism_activities_park_id_parks"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tourism_activities")),
    )
    op.create_index("ix_tourism_activities_park_id", "tourism_activities", ["park_id"])
    op.create_table(
        "topic_maps",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("config", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("owner_id", sa.BigInteger(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_topic_maps")),
        sa.UniqueConstraint("name", name=op.f("uq_topic_maps_name")),
    )


def downgrade() -> None:
    """Drop the tourism tables (every count partition), the maker and the daily capacity."""
    for table in (
        "topic_maps",
        "tourism_activities",
        "park_vehicles",
        "tourism_flows",
        "park_relations",
        "park_alerts",
        "park_alert_states",
        "park_days",
        "park_buckets",
        "visitor_counts",
        "park_levels",
        "tourism_points",
    ):
        op.drop_table(table)
    op.execute("DROP FUNCTION make_day_partition(text, date)")
    op.drop_column("parks", "daily_capacity")
