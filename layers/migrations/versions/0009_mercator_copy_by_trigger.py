"""tiles: the Mercator copy of a point kept by a row trigger, not a generated column

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01

``geom_3857`` was ``GENERATED ALWAYS AS (ST_Transform(geom, 3857))``: PostgreSQL ran
PROJ on every row a COPY wrote, 0.85 of the 3.0 s a million units took the server, and
nobody could write the column. It is a plain column now, set from ``geom`` by a row
trigger on every insert and every change of ``geom``. A bulk import builds its new
table without the trigger and writes the column itself (``geo.tiling.lonlat_to_mercator``,
within nanometres of PROJ), then the swap gives the table the layer's triggers.
"""

from __future__ import annotations

import geoalchemy2
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

POINT_TABLES = ("units", "rail_stations", "bus_stations", "incidents", "vehicles")
_FUNCTION = """
CREATE FUNCTION feature_geom_3857() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.geom_3857 := ST_Transform(NEW.geom, 3857);
    RETURN NEW;
END $$
"""


def upgrade() -> None:
    op.execute(_FUNCTION)
    for table in POINT_TABLES:
        op.execute(f"ALTER TABLE {table} ALTER COLUMN geom_3857 DROP EXPRESSION")
        op.execute(f"CREATE TRIGGER {table}_geom_3857 BEFORE INSERT OR UPDATE OF geom "
                   f"ON {table} FOR EACH ROW EXECUTE FUNCTION feature_geom_3857()")  # fmt: skip


def downgrade() -> None:
    for table in POINT_TABLES:
        op.execute(f"DROP TRIGGER {table}_geom_3857 ON {table}")
        op.drop_column(table, "geom_3857")
        point = geoalchemy2.types.Geometry("POINT", srid=3857, spatial_index=False, nullable=False)
        computed = sa.Computed("ST_Transform(geom, 3857)", persisted=True)
        op.add_column(table, sa.Column("geom_3857", point, computed, nullable=False))
    op.execute("DROP FUNCTION feature_geom_3857()")
