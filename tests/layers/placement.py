"""Where features should belong: the jurisdiction rule, checked in SQL over whole layers."""

from __future__ import annotations

from sqlalchemy import Connection, text

from layers.features.jurisdiction import BOUNDARY_TABLES
from layers.features.registry import all_layers

# The lowest-id precinct containing the representative point, and that precinct's district.
_MISPLACED = """
SELECT t.id FROM {table} AS t
LEFT JOIN LATERAL (
    SELECT p.id, p.district_id FROM precincts AS p
    WHERE ST_Intersects(p.geom, {point}) ORDER BY p.id LIMIT 1
) AS p ON true
WHERE t.precinct_id IS DISTINCT FROM p.id OR t.district_id IS DISTINCT FROM p.district_id
"""
_MISPLACED_PRECINCTS = """
SELECT t.id FROM precincts AS t
WHERE t.precinct_id IS DISTINCT FROM t.id OR t.district_id IS DISTINCT FROM (
    SELECT d.id FROM districts AS d WHERE ST_Intersects(d.geom, ST_PointOnSurface(t.geom))
    ORDER BY d.id LIMIT 1
)
"""


def misplaced(connection: Connection) -> dict[str, list[int]]:
    """Return, per table, the rows whose ``precinct_id``/``district_id`` break the rule."""
    found = {"precincts": list(connection.scalars(text(_MISPLACED_PRECINCTS)))}
    for layer in all_layers():
        if layer.table not in BOUNDARY_TABLES:
            point = "t.geom" if layer.geometry_type == "Point" else "ST_PointOnSurface(t.geom)"
            found[layer.table] = list(
                connection.scalars(text(_MISPLACED.format(table=layer.table, point=point)))
            )
    return {table: ids for table, ids in found.items() if ids}


def placements(connection: Connection, table: str = "units") -> dict[int, tuple[int, int]]:
    """Return each row's ``(precinct_id, district_id)`` by id."""
    rows = connection.execute(text(f"SELECT id, precinct_id, district_id FROM {table}"))
    return {row[0]: (row[1], row[2]) for row in rows}
