"""feature risks in the unit tiles: tile caches told when a risk changes

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03

Tiles carry each feature's open hazards and highest hazard level (``feature_risks``),
clusters their sum and maximum (two new columns of ``tile_clusters``). A statement
trigger on ``feature_risks`` (insert, update, delete, truncate: the hazards module, the
demo's recount, psql alike) reports the box of the features whose risk changed through
0002's ``feature_box_changed``: their clusters are queued for a refresh and every worker's
tile cache drops the tiles covering them, once the write commits. The clusters of
existing rows are rebuilt with their risks on first use.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

# Layer ids are their table names; the clustered ones are 0002's.
FEATURE_TABLES = (
    "districts", "precincts", "units", "parks", "rail_stations", "bus_stations",
    "construction_sites", "key_station_areas", "incidents", "vehicles",
)  # fmt: skip
CLUSTERED_TABLES = ("units", "bus_stations", "incidents")
WORLD = "-180, -85.06, 180, 85.06"

_BOX_OF = f"""
CREATE FUNCTION feature_risks_box_changed(changed_layer text, ids bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    extent box2d;
BEGIN
    IF NOT changed_layer = ANY(ARRAY{list(FEATURE_TABLES)!r}) THEN
        RETURN;
    END IF;
    EXECUTE format('SELECT ST_Extent(geom) FROM %I WHERE id = ANY($1)', changed_layer)
        INTO extent USING ids;
    IF extent IS NOT NULL THEN
        PERFORM feature_box_changed(
            changed_layer, changed_layer = ANY(ARRAY{list(CLUSTERED_TABLES)!r}),
            ST_XMin(extent), ST_YMin(extent), ST_XMax(extent), ST_YMax(extent));
    END IF;
END $$
"""
# An update that leaves a risk as it was (the hazards module recounts on every step) tells
# nobody; one that moves a row to another feature tells both.
_RISKS_CHANGED = f"""
CREATE FUNCTION feature_risks_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    each_layer text;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        FOREACH each_layer IN ARRAY ARRAY{list(FEATURE_TABLES)!r} LOOP
            PERFORM feature_box_changed(
                each_layer, each_layer = ANY(ARRAY{list(CLUSTERED_TABLES)!r}), {WORLD});
        END LOOP;
    ELSIF TG_OP = 'INSERT' THEN
        PERFORM feature_risks_box_changed(n.layer, array_agg(n.feature_id))
        FROM new_rows AS n GROUP BY n.layer;
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM feature_risks_box_changed(o.layer, array_agg(o.feature_id))
        FROM old_rows AS o GROUP BY o.layer;
    ELSE
        PERFORM feature_risks_box_changed(layer, array_agg(feature_id))
        FROM new_rows AS n FULL JOIN old_rows AS o USING (layer, feature_id)
        WHERE n.open_hazards IS DISTINCT FROM o.open_hazards
           OR n.hazard_level IS DISTINCT FROM o.hazard_level
        GROUP BY layer;
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
    """Add the risk columns of clusters and tell tile caches about every risk change."""
    op.add_column(
        "tile_clusters",
        sa.Column("open_hazards", sa.Integer(), server_default="0", nullable=False),
    )
    op.add_column("tile_clusters", sa.Column("hazard_level", sa.SmallInteger(), nullable=True))
    op.execute(_BOX_OF)
    op.execute(_RISKS_CHANGED)
    for name, event, referencing in _TRIGGERS:
        op.execute(
            f"CREATE TRIGGER feature_risks_changed_{name} AFTER {event} ON feature_risks "
            f"{referencing} FOR EACH STATEMENT EXECUTE FUNCTION feature_risks_changed()"
        )
    for table in CLUSTERED_TABLES:
        op.execute(f"INSERT INTO tile_cluster_dirty VALUES (DEFAULT, '{table}', {WORLD})")


def downgrade() -> None:
    """Drop the risk triggers and the risk columns of clusters."""
    for name, _, _ in _TRIGGERS:
        op.execute(f"DROP TRIGGER feature_risks_changed_{name} ON feature_risks")
    op.execute("DROP FUNCTION feature_risks_changed()")
    op.execute("DROP FUNCTION feature_risks_box_changed(text, bigint[])")
    op.drop_column("tile_clusters", "hazard_level")
    op.drop_column("tile_clusters", "open_hazards")
