"""jurisdiction: a boundary edit reassigns with both boxes bounding the index scan

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03

``reassign_jurisdiction`` (0012) picked the features of a changed area with
``f.geom && area OR f.precinct_id = ANY(moved)``: the OR kept the area's box out of the
scan of the layer's GiST index, which read every feature of each candidate precinct
(~48,000 units for the largest; 390 ms) to keep those in the box. When no precinct
changed district (any edit of precincts alone) the box is now an index condition
beside the precinct's (100 ms). The function is otherwise 0012's.
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

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
CREATE OR REPLACE FUNCTION reassign_jurisdiction(area geometry) RETURNS void
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
    -- the changed area, and the features of precincts whose district changed; without
    -- those, both boxes bound the scan of the layer's GiST index
    IF area IS NULL THEN
        region := 'true';
        candidates := 'true';
    ELSIF moved = '{{}}' THEN
        region := 'f.geom && $1';
        candidates := 'p.geom && $1';
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


def upgrade() -> None:
    op.execute(_REASSIGN)


def downgrade() -> None:
    """Keep the function: 0012's gave the same answers, only slower."""
