"""transit operators of stations and lines; records follow boundary changes

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03

``feature_operators``: a unit (a metro company, a bus fleet, a rail builder) operates
features of other layers — stations, stops, rail construction sites; a transfer station
may have two. Its users read the records about them (``layers.features.operators``).

Records follow their place. A record took its point and jurisdiction from its first
feature when it was made; a later boundary change (0012's reassignment) or a moved
feature left it behind — the new precinct's officer saw the unit but not its history,
and statistics counted the record where the feature no longer is. Now the link to that
feature says so (``record_links.place``, one a record; it is the only link of nearly
every record, so the column's default marks it and only records with several links are
written here: the link at the record's point, else the first) and a statement trigger
on every feature table moves the records placed at the features whose point or
jurisdiction an UPDATE changed, whoever wrote it; ``record_counts`` follows through its
own triggers. Records about a deleted feature stay where they were. Records out of step
with their place before this migration are moved here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

# Layer ids are their table names.
POINT_TABLES = ("units", "rail_stations", "bus_stations", "incidents", "vehicles")
AREA_TABLES = (
    "districts", "precincts", "parks", "construction_sites", "key_station_areas",
)  # fmt: skip


def _point(table: str) -> str:
    """Return the record's point on a feature ``f`` of ``table``, as the records service does."""
    return "f.geom" if table in POINT_TABLES else "ST_PointOnSurface(f.geom)"


# The records placed at the changed features take their point and jurisdiction; ``f`` is
# the new row, ``o`` the old one. Geometries compare with ``=`` (exact in PostGIS 3, like
# ST_OrderingEquals, but costed so low that the planner adds no JIT for it).
_FOLLOW = """
UPDATE records AS r
SET geom = CASE WHEN TG_ARGV[1]::boolean THEN f.geom ELSE ST_PointOnSurface(f.geom) END,
    district_id = f.district_id, precinct_id = f.precinct_id
FROM new_rows AS f JOIN old_rows AS o ON o.id = f.id, record_links AS l
WHERE l.layer = TG_ARGV[0] AND l.feature_id = f.id AND l.place AND r.id = l.record_id
  AND (o.district_id IS DISTINCT FROM f.district_id
       OR o.precinct_id IS DISTINCT FROM f.precinct_id
       OR o.geom IS DISTINCT FROM f.geom)
"""
# Nothing to do for a layer no record is about (a demo load assigning a million units).
_FOLLOW_FUNCTION = f"""
CREATE FUNCTION records_follow_place() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT FROM record_links WHERE layer = TG_ARGV[0]) THEN
        {_FOLLOW};
    END IF;
    RETURN NULL;
END $$
"""
# Records with several links (few: most have one, marked by the column's default).
_SEVERAL = """
CREATE TEMPORARY TABLE several_links ON COMMIT DROP AS
SELECT l.* FROM record_links AS l
WHERE l.record_id IN (SELECT record_id FROM record_links GROUP BY record_id HAVING count(*) > 1)
"""
_PLACE_AT_POINT = """
UPDATE several_links AS l SET place = coalesce(r.geom = {point}, false)
FROM records AS r, {table} AS f
WHERE l.layer = '{table}' AND f.id = l.feature_id AND r.id = l.record_id
"""
# The first link at the record's point, else its first link.
_PLACE_ONE = """
UPDATE record_links AS l SET place = (l.layer, l.feature_id) = (m.layer, m.feature_id)
FROM (SELECT DISTINCT ON (record_id) record_id, layer, feature_id FROM several_links
      ORDER BY record_id, place DESC, layer, feature_id) AS m
WHERE l.record_id = m.record_id
"""
_RESYNC = """
UPDATE records AS r
SET geom = {point}, district_id = f.district_id, precinct_id = f.precinct_id
FROM record_links AS l JOIN {table} AS f ON f.id = l.feature_id
WHERE l.layer = '{table}' AND l.place AND r.id = l.record_id
  AND (r.district_id IS DISTINCT FROM f.district_id
       OR r.precinct_id IS DISTINCT FROM f.precinct_id
       OR r.geom IS DISTINCT FROM {point})
"""


def upgrade() -> None:
    """Create the operators of features; mark each record's place, and let records follow it."""
    op.create_table(
        "feature_operators",
        sa.Column("unit_id", sa.BigInteger(), nullable=False),
        sa.Column("layer", sa.String(32), nullable=False),
        sa.Column("feature_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            ondelete="CASCADE",
            name="fk_feature_operators_unit_id_units",
        ),
        sa.PrimaryKeyConstraint("unit_id", "layer", "feature_id", name="pk_feature_operators"),
    )
    op.create_index("ix_feature_operators_feature", "feature_operators", ["layer", "feature_id"])
    op.add_column(
        "record_links",
        sa.Column("place", sa.Boolean(), server_default=sa.true(), nullable=False),
    )
    op.execute(_SEVERAL)
    op.execute("UPDATE several_links SET place = false")
    for table in (*POINT_TABLES, *AREA_TABLES):
        op.execute(_PLACE_AT_POINT.format(table=table, point=_point(table)))
    op.execute(_PLACE_ONE)
    op.create_index(
        "uq_record_links_place",
        "record_links",
        ["record_id"],
        unique=True,
        postgresql_where=sa.text("place"),
    )
    op.execute("ANALYZE record_links")  # the trigger's plan wants the new column's statistics
    for table in (*POINT_TABLES, *AREA_TABLES):
        op.execute(_RESYNC.format(table=table, point=_point(table)))
    op.execute(_FOLLOW_FUNCTION)
    for table in (*POINT_TABLES, *AREA_TABLES):
        op.execute(
            f"CREATE TRIGGER {table}_records_follow AFTER UPDATE ON {table} "
            "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
            f"EXECUTE FUNCTION records_follow_place('{table}', {table in POINT_TABLES})"
        )


def downgrade() -> None:
    """Drop the records' following and places, and the operators of features."""
    for table in (*POINT_TABLES, *AREA_TABLES):
        op.execute(f"DROP TRIGGER {table}_records_follow ON {table}")
    op.execute("DROP FUNCTION records_follow_place()")
    op.drop_index("uq_record_links_place", table_name="record_links")
    op.drop_column("record_links", "place")
    op.drop_table("feature_operators")
