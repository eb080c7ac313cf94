"""jurisdiction: every feature's precinct and district follow the boundaries at once

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03

A feature's ``precinct_id``/``district_id`` were set when the feature was written, so
a boundary change left them stale: re-importing the precincts (``--mode replace``)
deleted the rows the features pointed at (``ON DELETE SET NULL``) and every feature
lost its precinct, and with it every officer his units. Now a statement trigger on
``precincts`` and ``districts`` (insert, update, delete, truncate: the service, an
import, psql alike) calls ``reassign_jurisdiction(area)`` for the box of the rows it
changed: precincts get their district again, then each feature layer in one UPDATE
(each precinct probes the layer's GiST index once; only rows whose ids change are
written). An update that changes no geometry and no jurisdiction column costs nothing.
Features made stale before this migration are reassigned here.
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

BOUNDARY_TABLES = ("districts", "precincts")
POINT_TABLES = ("units", "rail_stations", "bus_stations", "incidents", "vehicles")
AREA_TABLES = ("parks", "construction_sites", "key_station_areas")

# A feature belongs to the lowest-id precinct containing its representative point (the
# point itself, ST_PointOnSurface of an area), as layers.features.jurisdiction says;
# rows of the changed area in no precinct lose theirs; only rows whose ids change are
# written (a rewritten unit costs ~70 µs: every index gets an entry). Each precinct probes
# the layer's GiST index (one prepared polygon each) rather than each feature the
# precincts' (3.6 against 7.5 s for a million units). Not in parallel: each worker
# built the whole aggregate again.
_FEATURES = """
WITH inside AS (
    SELECT f.id, min(p.id) AS precinct_id, f.precinct_id AS was, f.district_id AS was_district
    FROM precincts AS p JOIN %1$I AS f ON f.geom && p.geom AND ST_Intersects(p.geom, %2$s)
    WHERE (%3$s) AND (%4$s)
    GROUP BY f.id
), changed AS (
    SELECT i.id, i.precinct_id, p.district_id
    FROM inside AS i JOIN precincts AS p ON p.id = i.precinct_id
    WHERE i.was IS DISTINCT FROM i.precinct_id OR i.was_district IS DISTINCT FROM p.district_id
    UNION ALL
    SELECT f.id, NULL, NULL FROM %1$I AS f
    WHERE (%3$s) AND (f.precinct_id IS NOT NULL OR f.district_id IS NOT NULL)
      AND NOT EXISTS (SELECT FROM inside AS i WHERE i.id = f.id)
)
UPDATE %1$I AS t SET precinct_id = c.precinct_id, district_id = c.district_id
FROM changed AS c WHERE t.id = c.id
"""
_REASSIGN = f"""
CREATE FUNCTION reassign_jurisdiction(area geometry) RETURNS void
LANGUAGE plpgsql SET work_mem = '256MB' SET max_parallel_workers_per_gather = 0 AS $$
DECLARE
    moved bigint[];
    region text;
    candidates text;
    layer text;
BEGIN
    UPDATE districts SET district_id = id, precinct_id = NULL
    WHERE district_id IS DISTINCT FROM id OR precinct_id IS NOT NULL;
    WITH placed AS (
        SELECT t.id, (SELECT d.id FROM districts AS d
                      WHERE ST_Intersects(d.geom, ST_PointOnSurface(t.geom))
                      ORDER BY d.id LIMIT 1) AS district_id
        FROM precincts AS t WHERE area IS NULL OR t.geom && area
    ), changed AS (
        UPDATE precincts AS t SET precinct_id = t.id, district_id = p.district_id
        FROM placed AS p
        WHERE t.id = p.id
          AND (t.precinct_id IS DISTINCT FROM t.id OR t.district_id IS DISTINCT FROM p.district_id)
        RETURNING t.id
    )
    SELECT coalesce(array_agg(id), '{{}}') INTO moved FROM changed;
    -- the changed area, and the features of precincts whose district changed
    IF area IS NULL THEN
        region := 'true';
        candidates := 'true';
    ELSE
        region := 'f.geom && $1 OR f.precinct_id = ANY($2)';
        candidates := 'p.geom && $1 OR p.id = ANY($2)';
    END IF;
    FOREACH layer IN ARRAY ARRAY{list(POINT_TABLES)!r} LOOP
        EXECUTE format($f${_FEATURES}$f$, layer, 'f.geom', region, candidates)
            USING area, moved;
    END LOOP;
    FOREACH layer IN ARRAY ARRAY{list(AREA_TABLES)!r} LOOP
        EXECUTE format($f${_FEATURES}$f$, layer, 'ST_PointOnSurface(f.geom)', region,
                       candidates) USING area, moved;
    END LOOP;
END $$
"""
# The rows a statement changed: inserted, deleted, or updated in their geometry or their
# own jurisdiction. The reassignment's own UPDATE of precincts (one trigger level down)
# is left alone: it changes nothing a feature's place depends on.
_CHANGED = """
CREATE FUNCTION boundaries_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    extent box2d;
BEGIN
    IF pg_trigger_depth() > 1 THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM reassign_jurisdiction(NULL);
        RETURN NULL;
    ELSIF TG_OP = 'INSERT' THEN
        SELECT ST_Extent(geom) INTO extent FROM new_rows;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT ST_Extent(geom) INTO extent FROM old_rows;
    ELSE
        SELECT ST_Extent(g) INTO extent
        FROM old_rows AS o FULL JOIN new_rows AS n ON n.id = o.id,
             LATERAL (VALUES (o.geom), (n.geom)) AS both_(g)
        WHERE o.id IS NULL OR n.id IS NULL OR NOT ST_OrderingEquals(o.geom, n.geom)
           OR o.district_id IS DISTINCT FROM n.district_id
           OR o.precinct_id IS DISTINCT FROM n.precinct_id;
    END IF;
    IF extent IS NOT NULL THEN
        PERFORM reassign_jurisdiction(ST_SetSRID(extent::geometry, 4326));
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
    op.execute(_REASSIGN)
    op.execute(_CHANGED)
    for table in BOUNDARY_TABLES:
        for name, event, referencing in _TRIGGERS:
            op.execute(f"CREATE TRIGGER {table}_jurisdiction_{name} AFTER {event} ON {table} "
                       f"{referencing} FOR EACH STATEMENT "
                       "EXECUTE FUNCTION boundaries_changed()")  # fmt: skip
    op.execute("SELECT reassign_jurisdiction(NULL)")


def downgrade() -> None:
    for table in BOUNDARY_TABLES:
        for name, _, _ in _TRIGGERS:
            op.execute(f"DROP TRIGGER {table}_jurisdiction_{name} ON {table}")
    op.execute("DROP FUNCTION boundaries_changed()")
    op.execute("DROP FUNCTION reassign_jurisdiction(geometry)")
