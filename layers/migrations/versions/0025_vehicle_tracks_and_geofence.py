"""vehicle tracks (time-partitioned) and geofence alerts on perimeter rings

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-03

``vehicle_positions`` (one row per vehicle and instant, partitioned by range of ``at``,
a partition per UTC day made by ``vehicle_positions_partition(day)`` when a batch first
needs it), ``geofence_states`` (whether a vehicle or incident is inside a perimeter's
ring, and a crossing pending its dwell) and ``geofence_alerts`` (entered, left,
acknowledged).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

PARTITION_NAME = """
CREATE FUNCTION vehicle_positions_partition_name(day date) RETURNS text
LANGUAGE sql STABLE AS $$ SELECT 'vehicle_positions_' || to_char(day, 'YYYYMMDD') $$
"""
# One maker at a time (an advisory lock); one that lost the race finds the table made.
MAKE_PARTITION = """
CREATE FUNCTION vehicle_positions_partition(day date) RETURNS regclass
LANGUAGE plpgsql AS $$
DECLARE
    name text := vehicle_positions_partition_name(day);
BEGIN
    IF to_regclass(name) IS NULL THEN
        PERFORM pg_advisory_xact_lock(hashtext('vehicle_positions_partition'));
        BEGIN
            EXECUTE format('CREATE TABLE %I PARTITION OF vehicle_positions '
                           'FOR VALUES FROM (%L) TO (%L)', name,
                           day::timestamp AT TIME ZONE 'UTC',
                           (day + 1)::timestamp AT TIME ZONE 'UTC');
        EXCEPTION WHEN duplicate_table OR unique_violation THEN
            NULL;
        END;
    END IF;
    RETURN to_regclass(name);
END $$
"""


def upgrade() -> None:
    """Create the positions table (partitioned), its partition maker, states and alerts."""
    op.create_table(
        "vehicle_positions",
        sa.Column("vehicle_id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lon", sa.Float(precision=53), nullable=False),
        sa.Column("lat", sa.Float(precision=53), nullable=False),
        sa.Column("speed_kmh", sa.REAL(), nullable=True),
        sa.Column("heading_deg", sa.REAL(), nullable=True),
        sa.PrimaryKeyConstraint("vehicle_id", "at", name=op.f("pk_vehicle_positions")),
        postgresql_partition_by="RANGE (at)",
    )
    op.execute(PARTITION_NAME)
    op.execute(MAKE_PARTITION)
    op.create_table(
        "geofence_states",
        sa.Column("layer", sa.String(32), nullable=False),
        sa.Column("feature_id", sa.BigInteger(), nullable=False),
        sa.Column("perimeter_id", sa.BigInteger(), nullable=False),
        sa.Column("ring", sa.String(16), nullable=False),
        sa.Column("inside", sa.Boolean(), nullable=False),
        sa.Column("pending_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "layer", "feature_id", "perimeter_id", "ring", name=op.f("pk_geofence_states")
        ),
    )  # fmt: skip
    op.create_index("ix_geofence_states_perimeter_id", "geofence_states", ["perimeter_id"])
    op.create_table(
        "geofence_alerts",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("perimeter_id", sa.BigInteger(), nullable=False),
        sa.Column("perimeter_name", sa.String(200), nullable=False),
        sa.Column("ring", sa.String(16), nullable=False),
        sa.Column("layer", sa.String(32), nullable=False),
        sa.Column("feature_id", sa.BigInteger(), nullable=False),
        sa.Column("feature_name", sa.String(200), nullable=False),
        sa.Column("geom", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(16), server_default="open", nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.BigInteger(), nullable=True),
        sa.Column("acknowledged_by_name", sa.String(64), nullable=True),
        sa.CheckConstraint("kind IN ('enter', 'exit')", name=op.f("ck_geofence_alerts_kind")),
        sa.CheckConstraint(
            "state IN ('open', 'acknowledged')", name=op.f("ck_geofence_alerts_state")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_geofence_alerts")),
    )  # fmt: skip
    op.create_index(
        "ix_geofence_alerts_open", "geofence_alerts", ["id"],
        postgresql_where=sa.text("state = 'open'"),
    )  # fmt: skip
    op.create_index("ix_geofence_alerts_feature", "geofence_alerts", ["layer", "feature_id"])
    op.create_index("ix_geofence_alerts_perimeter_id", "geofence_alerts", ["perimeter_id"])


def downgrade() -> None:
    """Drop the alerts, states, positions (every partition) and the partition maker."""
    op.drop_table("geofence_alerts")
    op.drop_table("geofence_states")
    op.drop_table("vehicle_positions")
    op.execute("DROP FUNCTION vehicle_positions_partition(date)")
    op.execute("DROP FUNCTION vehicle_positions_partition_name(date)")
