"""Spatial assignment of features to precincts and districts, for single and bulk writes.

A feature belongs to the precinct that contains its representative point
(``ST_PointOnSurface``, so a concave polygon is never assigned by a centroid lying
outside it). A precinct belongs to itself and to its district; a district to itself.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

BOUNDARY_TABLES = ("districts", "precincts")

_ASSIGN_FEATURES = """
UPDATE {table} AS t
SET precinct_id = p.id, district_id = p.district_id
FROM precincts AS p
WHERE ST_Intersects(p.geom, ST_PointOnSurface(t.geom)) {only}
"""

_CLEAR_UNMATCHED = """
UPDATE {table} AS t SET precinct_id = NULL, district_id = NULL
WHERE NOT EXISTS (
    SELECT 1 FROM precincts AS p WHERE ST_Intersects(p.geom, ST_PointOnSurface(t.geom))
) {only}
"""

_ASSIGN_PRECINCTS = """
UPDATE precincts AS t
SET precinct_id = t.id,
    district_id = (
        SELECT d.id FROM districts AS d
        WHERE ST_Intersects(d.geom, ST_PointOnSurface(t.geom)) LIMIT 1
    )
WHERE true {only}
"""

_ASSIGN_DISTRICTS = (
    "UPDATE districts AS t SET district_id = t.id, precinct_id = NULL WHERE true {only}"
)


def assign_jurisdiction(session: Session, table: str, ids: list[int] | None = None) -> None:
    """Set ``precinct_id``/``district_id`` of rows of ``table`` (all rows, or only ``ids``)."""
    only = "AND t.id = ANY(:ids)" if ids is not None else ""
    params = {"ids": ids} if ids is not None else {}
    if table == "districts":
        session.execute(text(_ASSIGN_DISTRICTS.format(only=only)), params)
    elif table == "precincts":
        session.execute(text(_ASSIGN_PRECINCTS.format(only=only)), params)
    else:
        session.execute(text(_CLEAR_UNMATCHED.format(table=table, only=only)), params)
        session.execute(text(_ASSIGN_FEATURES.format(table=table, only=only)), params)
