"""Perimeters for API tests: a busy place of the demo city, bodies to draw rings around it."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from geoalchemy2.shape import to_shape
from shapely.geometry import Point, box, mapping
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from layers.features.models import Precinct, Unit

OUTER_HALF_DEG = 0.04  # the outer ring: a square of 0.08 degrees
WINDOW = {"starts_at": "2026-12-24T18:00:00+08:00", "ends_at": "2026-12-25T02:00:00+08:00"}


def busy_place(session: Session) -> tuple[Precinct, Point]:
    """Return the precinct holding the most units and the units' middle in it."""
    precinct_id, lon, lat = session.execute(
        select(Unit.precinct_id, func.percentile_cont(0.5).within_group(func.ST_X(Unit.geom)),
               func.percentile_cont(0.5).within_group(func.ST_Y(Unit.geom)))
        .where(Unit.precinct_id.is_not(None)).group_by(Unit.precinct_id)
        .order_by(func.count().desc(), Unit.precinct_id).limit(1)
    ).one()  # fmt: skip
    precinct = session.get(Precinct, precinct_id)
    assert precinct is not None
    return precinct, Point(lon, lat)


def square(centre: Point, half_deg: float) -> dict[str, Any]:
    """Return a GeoJSON square of ``2 * half_deg`` degrees around ``centre``."""
    return dict(mapping(box(centre.x - half_deg, centre.y - half_deg,
                            centre.x + half_deg, centre.y + half_deg)))  # fmt: skip


def nested_rings(centre: Point) -> list[dict[str, Any]]:
    """Return three rings: 800 m around a point, 1 km more around that, a drawn square."""
    return [
        {"kind": "core", "around": {"type": "Point", "coordinates": [centre.x, centre.y]},
         "buffer_m": 800},
        {"kind": "control", "around_core_m": 1000},
        {"kind": "outer", "polygon": square(centre, OUTER_HALF_DEG)},
    ]  # fmt: skip


def perimeter_body(centre: Point, **changes: Any) -> dict[str, Any]:
    """Return a whole perimeter around ``centre`` (a concert's three rings), with ``changes``."""
    return {"name": "跨年演唱会安保", **WINDOW, "rings": nested_rings(centre), **changes}


def create_perimeter(
    client: TestClient, headers: dict[str, str], body: dict[str, Any]
) -> dict[str, Any]:
    """POST a perimeter; return it (201 only)."""
    response = client.post("/api/perimeters", json=body, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def outline(session: Session, precinct_id: int) -> dict[str, Any]:
    """Return a precinct's outline as GeoJSON."""
    precinct = session.get(Precinct, precinct_id)
    assert precinct is not None
    return dict(mapping(to_shape(precinct.geom)))


_INNERMOST = """
SELECT r.kind, f.id FROM {table} AS f
JOIN perimeter_rings AS r
  ON r.perimeter_id = :perimeter AND {test}(r.geom::geography, f.geom::geography)
WHERE ({where}) AND NOT EXISTS (
    SELECT 1 FROM perimeter_rings AS q
    WHERE q.perimeter_id = :perimeter AND {test}(q.geom::geography, f.geom::geography)
      AND array_position(ARRAY['core', 'control', 'outer'], q.kind)
        < array_position(ARRAY['core', 'control', 'outer'], r.kind))
ORDER BY f.id
"""


def innermost(
    session: Session, perimeter_id: int, table: str, where: str = "true", *,
    areas: bool = False, **params: Any,
) -> dict[str, list[int]]:  # fmt: skip
    """Return, per ring, the ids of ``table``'s rows whose innermost ring it is, by PostGIS.

    Written apart from the code under test: on geography (PostGIS's geodesic edges), a
    point held by a ring it is covered by, an area by a ring it intersects.
    """
    sql = _INNERMOST.format(table=table, where=where,
                            test="ST_Intersects" if areas else "ST_Covers")  # fmt: skip
    found: dict[str, list[int]] = {}
    for kind, ident in session.execute(text(sql), {"perimeter": perimeter_id, **params}):
        found.setdefault(kind, []).append(ident)
    return found


# Keys of the units' cell counts and of a count of the units now that differ: none when
# they agree. One statement, so one snapshot, whatever other tests write meanwhile.
CELL_COUNT_DRIFT = """
WITH fresh AS (
    SELECT h3_cell, category, risk_level, coalesce(district_id, -1) AS d,
           coalesce(precinct_id, -1) AS p, count(*) AS n
    FROM units WHERE h3_cell IS NOT NULL GROUP BY 1, 2, 3, 4, 5
), kept AS (
    SELECT h3_cell, category, risk_level, district_id, precinct_id, n FROM unit_cell_counts
)
SELECT count(*) FROM ((TABLE fresh EXCEPT TABLE kept) UNION ALL (TABLE kept EXCEPT TABLE fresh))
    AS differing
"""
