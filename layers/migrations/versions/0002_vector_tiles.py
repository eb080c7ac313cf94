"""vector tiles: indexed web-mercator point geometry, precomputed low-zoom clusters

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import geoalchemy2
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

POINT_TABLES = ("units", "rail_stations", "bus_stations", "incidents", "vehicles")
# Layers whose registry entry has a point_zoom: their low zooms are served from clusters.
CLUSTERED_TABLES = ("units", "bus_stations", "incidents")
EDGES = ("west", "south", "east", "north")
WORLD = "-180, -85.06, 180, 85.06"

FEATURE_TABLES = (
    "districts", "precincts", "units", "parks", "rail_stations", "bus_stations",
    "construction_sites", "key_station_areas", "incidents", "vehicles",
)  # fmt: skip
CHANNEL = "warroom_features"

# Every statement that changes a feature table reports the box of the rows it touched
# (old and new), whatever wrote them: the service, an importer, a bulk COPY or psql.
# Clustered layers queue the box for their clusters; every layer notifies the tile
# caches of all workers, which PostgreSQL delivers only if and when the write commits.
BOX_CHANGED = f"""
CREATE FUNCTION feature_box_changed(
    changed_layer text, clustered boolean,
    changed_west float8, changed_south float8, changed_east float8, changed_north float8
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF clustered THEN
        INSERT INTO tile_cluster_dirty (layer, west, south, east, north)
        VALUES (changed_layer, changed_west, changed_south, changed_east, changed_north);
    END IF;
    PERFORM pg_notify('{CHANNEL}', format('%s %s %s %s %s', changed_layer,
                      changed_west, changed_south, changed_east, changed_north));
END $$
"""
ROWS_CHANGED = f"""
CREATE FUNCTION feature_rows_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    extent box2d;
    clustered boolean := TG_ARGV[1]::boolean;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM feature_box_changed(TG_ARGV[0], clustered, {WORLD});
        RETURN NULL;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        SELECT ST_Extent(geom) INTO extent FROM new_rows;
        IF extent IS NOT NULL THEN
            PERFORM feature_box_changed(TG_ARGV[0], clustered, ST_XMin(extent),
                                        ST_YMin(extent), ST_XMax(extent), ST_YMax(extent));
        END IF;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        SELECT ST_Extent(geom) INTO extent FROM old_rows;
        IF extent IS NOT NULL THEN
            PERFORM feature_box_changed(TG_ARGV[0], clustered, ST_XMin(extent),
                                        ST_YMin(extent), ST_XMax(extent), ST_YMax(extent));
        END IF;
    END IF;
    RETURN NULL;
END $$
"""
_TRIGGERS = (
    ("insert", "INSERT", "REFERENCING NEW TABLE AS new_rows"),
    ("update", "UPDATE", "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    ("delete", "DELETE", "REFERENCING OLD TABLE AS old_rows"),
    ("truncate", "TRUNCATE", ""),
)


def upgrade() -> None:
    for table in POINT_TABLES:
        op.add_column(
            table,
            sa.Column(
                "geom_3857",
                geoalchemy2.types.Geometry(
                    geometry_type="POINT", srid=3857, spatial_index=False, nullable=False
                ),
                sa.Computed("ST_Transform(geom, 3857)", persisted=True),
                nullable=False,
            ),
        )
        op.create_index(f"ix_{table}_geom_3857", table, ["geom_3857"], postgresql_using="gist")

    op.create_table(
        "tile_clusters",
        sa.Column("layer", sa.String(64), nullable=False),
        sa.Column("zoom", sa.SmallInteger(), nullable=False),
        sa.Column("cx", sa.Integer(), nullable=False),
        sa.Column("cy", sa.Integer(), nullable=False),
        sa.Column("precinct_id", sa.BigInteger(), nullable=True),
        sa.Column("district_id", sa.BigInteger(), nullable=True),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("sum_x", sa.Float(53), nullable=False),
        sa.Column("sum_y", sa.Float(53), nullable=False),
        sa.Column("maxima", sa.ARRAY(sa.Integer()), nullable=False),
        sa.Column("trues", sa.ARRAY(sa.Integer()), nullable=False),
    )
    op.create_index("ix_tile_clusters_cell", "tile_clusters", ["layer", "zoom", "cx", "cy"])
    op.create_table(
        "tile_cluster_dirty",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("layer", sa.String(64), nullable=False),
        *(sa.Column(edge, sa.Float(53), nullable=False) for edge in EDGES),
    )
    op.create_index("ix_tile_cluster_dirty_layer", "tile_cluster_dirty", ["layer"])
    op.execute(BOX_CHANGED)
    op.execute(ROWS_CHANGED)
    for table in FEATURE_TABLES:
        clustered = table in CLUSTERED_TABLES
        for name, event, referencing in _TRIGGERS:
            op.execute(
                f"CREATE TRIGGER {table}_changed_{name} AFTER {event} ON {table} {referencing} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION feature_rows_changed('{table}', {clustered})"
            )
    for table in CLUSTERED_TABLES:
        # clusters of rows that exist before this migration are built on first use
        op.execute(f"INSERT INTO tile_cluster_dirty VALUES (DEFAULT, '{table}', {WORLD})")


def downgrade() -> None:
    for table in FEATURE_TABLES:
        for name, _, _ in _TRIGGERS:
            op.execute(f"DROP TRIGGER {table}_changed_{name} ON {table}")
    op.execute("DROP FUNCTION feature_rows_changed()")
    op.execute("DROP FUNCTION feature_box_changed(text, boolean, float8, float8, float8, float8)")
    op.drop_table("tile_cluster_dirty")
    op.drop_table("tile_clusters")
    for table in POINT_TABLES:
        op.drop_index(f"ix_{table}_geom_3857", table_name=table)
        op.drop_column(table, "geom_3857")
