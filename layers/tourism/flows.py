"""客流: visitors from an origin to a park, hour by hour, served as arcs with a direction.

An origin is another park (its id), an H3 cell (its hex string), a district (its code)
or a rail station (its id): the OD table of the ticketing or telecom feed, or volumes
derived by the team. A resent row (same origin, park and hour) replaces its volume.
Arcs run from the origin's place (a park's or district's representative point, a cell's
centre, a station) to the park's, and sum the hours of the window asked for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import h3
from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from layers.accounts.roles import Permission
from layers.accounts.scope import Actor
from layers.audit.service import audited_denials, record_audit
from layers.errors import InvalidInput, PayloadTooLarge
from layers.features.models import Park
from layers.tourism.models import ORIGIN_KINDS, TourismFlow

MAX_ROWS = 10_000


@dataclass(frozen=True)
class Flow:
    """Visitors from ``origin`` (of ``origin_kind``) to a park in the hour starting at ``at``."""

    origin_kind: str
    origin: str
    park_id: int
    at: datetime
    volume: int


def _origin_problem(flow: Flow, known: dict[str, set[str]]) -> str | None:
    if flow.origin_kind not in ORIGIN_KINDS:
        return f"origin_kind must be one of {', '.join(ORIGIN_KINDS)}"
    if flow.origin_kind == "h3":
        return None if h3.is_valid_cell(flow.origin) else "is no H3 cell"
    if flow.origin not in known[flow.origin_kind]:
        return f"names no {flow.origin_kind.replace('_', ' ')} that exists"
    return None


_KNOWN = {
    "park": "SELECT CAST(id AS text) FROM parks WHERE CAST(id AS text) = ANY(:given)",
    "district": "SELECT code FROM districts WHERE code = ANY(:given)",
    "rail_station": "SELECT CAST(id AS text) FROM rail_stations "
    "WHERE CAST(id AS text) = ANY(:given)",
}


def _visible_parks(session: Session, ids: set[int], actor: Actor) -> set[int]:
    query = select(Park.id).where(Park.id.in_(ids), actor.scope.clause(Park))
    return set(session.scalars(query))


def ingest_flows(*, session: Session, flows: Sequence[Flow], actor: Actor) -> int:
    """Store OD rows to parks the actor may see whole or refuse them; return rows written."""
    with audited_denials(session, actor, "tourism.flows", "tourism", None):
        actor.require(Permission.TOURISM_WRITE)
    if len(flows) > MAX_ROWS:
        raise PayloadTooLarge(f"a batch holds at most {MAX_ROWS:,} rows, this one {len(flows):,}")
    parks = {f.park_id for f in flows}
    seen = _visible_parks(session, parks, actor)
    known = {kind: set(session.scalars(text(sql), {"given": [f.origin for f in flows]}))
             for kind, sql in _KNOWN.items()}  # fmt: skip
    problems = []
    for index, flow in enumerate(flows):
        problem = _origin_problem(flow, known)
        if flow.park_id not in seen:
            problem = f"park {flow.park_id} is no park that you may see"
        if problem:
            problems.append(f"flows[{index}] ({flow.origin_kind} {flow.origin!r}): {problem}")
    if problems:
        named = "; ".join(problems[:3])
        raise InvalidInput(f"{len(problems)} of the {len(flows)} rows are refused and nothing "
                           f"was saved: {named}", problems=problems[:20])  # fmt: skip
    rows = [{"origin_kind": f.origin_kind, "origin": f.origin, "park_id": f.park_id,
             "at": f.at.replace(minute=0, second=0, microsecond=0), "volume": f.volume}
            for f in flows]  # fmt: skip
    upsert = insert(TourismFlow).values(rows)
    session.execute(upsert.on_conflict_do_update(
        index_elements=["origin_kind", "origin", "park_id", "at"],
        set_={"volume": upsert.excluded.volume},
    ))  # fmt: skip
    record_audit(session, actor=actor, action="tourism.flows", target_type="tourism",
                 after={"rows": len(rows), "parks": sorted(parks)})  # fmt: skip
    return len(rows)


# Each origin's place by its kind; the park's representative point as the destination.
_ARCS = """
WITH summed AS (
    SELECT f.origin_kind, f.origin, f.park_id, sum(f.volume) AS volume
    FROM tourism_flows AS f
    WHERE f.at >= :since AND f.at < :until AND f.park_id = ANY(CAST(:parks AS bigint[]))
    GROUP BY 1, 2, 3
)
SELECT s.origin_kind, s.origin, s.park_id, p.name, s.volume,
       ST_X(ST_PointOnSurface(p.geom)), ST_Y(ST_PointOnSurface(p.geom)),
       coalesce(op.name, d.name, r.name), coalesce(ST_X(ST_PointOnSurface(op.geom)),
       ST_X(ST_PointOnSurface(d.geom)), ST_X(r.geom)), coalesce(ST_Y(ST_PointOnSurface(op.geom)),
       ST_Y(ST_PointOnSurface(d.geom)), ST_Y(r.geom))
FROM summed AS s JOIN parks AS p ON p.id = s.park_id
LEFT JOIN parks AS op ON s.origin_kind = 'park' AND CAST(op.id AS text) = s.origin
LEFT JOIN districts AS d ON s.origin_kind = 'district' AND d.code = s.origin
LEFT JOIN rail_stations AS r ON s.origin_kind = 'rail_station' AND CAST(r.id AS text) = s.origin
ORDER BY s.volume DESC, s.park_id, s.origin_kind, s.origin
LIMIT :limit
"""


@dataclass(frozen=True)
class Arc:
    """Visitors from an origin's place to a park's over a window."""

    origin_kind: str
    origin: str
    origin_name: str | None
    park_id: int
    park_name: str
    volume: int
    start: tuple[float, float]
    end: tuple[float, float]


def read_flows(*, session: Session, actor: Actor, since: datetime, until: datetime,
               limit: int) -> list[Arc]:  # fmt: skip
    """Return the arcs into parks the actor may see from ``since`` to ``until``, largest first."""
    actor.require(Permission.FEATURES_READ)
    if until <= since:
        raise InvalidInput(f"the window ends ({until.isoformat()}) before it starts "
                           f"({since.isoformat()})")  # fmt: skip
    parks = list(session.scalars(select(Park.id).where(actor.scope.clause(Park))))
    rows = session.execute(text(_ARCS), {"since": since, "until": until, "parks": parks,
                                         "limit": limit})  # fmt: skip
    arcs = []
    for kind, origin, park_id, park_name, volume, px, py, name, ox, oy in rows:
        if kind == "h3":
            oy, ox = h3.cell_to_latlng(origin)
        if ox is None or oy is None:
            continue  # an origin deleted since: no place to draw it from
        arcs.append(Arc(kind, origin, name, park_id, park_name, int(volume), (ox, oy), (px, py)))
    return arcs
