"""Spatial assignment of features to precincts and districts, for single and bulk writes.

A feature belongs to the precinct that contains its representative point (the point
itself for point layers, ``ST_PointOnSurface`` for areas, so a concave polygon is never
assigned by a centroid lying outside it). A precinct belongs to itself and to its
district; a district to itself.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from layers.features.registry import get_layer

BOUNDARY_TABLES = ("districts", "precincts")


# Rows that will not be matched again must not keep a stale precinct.
_RESET = """
UPDATE {table} AS t SET precinct_id = NULL, district_id = NULL
WHERE t.precinct_id IS NOT NULL {only}
"""

# Joined this way the planner loops over the ~200 precincts and probes the feature's GiST
# index with each (prepared once), instead of testing every feature against the polygons.
_ASSIGN_FEATURES = """
UPDATE {table} AS t
SET precinct_id = p.id, district_id = p.district_id
FROM precincts AS p
WHERE ST_Intersects(p.geom, {point}) {only}
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
        point = (
            "t.geom" if get_layer(table).geometry_type == "Point" else "ST_PointOnSurface(t.geom)"
        )
        session.execute(text(_RESET.format(table=table, only=only)), params)
        session.execute(text(_ASSIGN_FEATURES.format(table=table, point=point, only=only)), params)
