"""客流: visitors from an origin to a park, hour by hour, served as arcs with a direction.

An origin is another park (its id), an H3 cell (its hex string), a district (its code)
or a rail station (its id). Flows are *ingested* — the OD table of the ticketing or
telecom feed (a resent row, same origin, park and hour, replaces its volume) — and
*derived* when read, from what the city already records:

- tour buses (``layers.tracks``): a bus staying in a park (positions inside it spanning
  ``dwell_min``) brings ``VISITORS_PER_BUS`` visitors from the park it stayed in before,
  or else from where it was first seen in the window (its H3 cell), in its arrival hour;
- station exits (``station_exits``): a rail station's exits in an hour are shared among
  the parks it is related to (within walking distance, ``layers.tourism.relations``) in
  proportion to the visitors their gates counted coming in that hour, and no park is
  given more from stations than its gates counted.

Arcs run from the origin's place (a park's or district's representative point, a cell's
centre, a station) to the park's, sum the hours of the window asked for, and say whether
they were ingested or derived.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import h3
from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from layers.accounts.roles import Permission
from layers.accounts.scope import Actor
from layers.audit.service import audited_denials, record_audit
from layers.errors import InvalidInput, PayloadTooLarge
from layers.features.models import Park
from layers.tourism.models import ORIGIN_KINDS, StationExit, TourismFlow

MAX_ROWS = 10_000
BUS_KINDS = ("tour_bus",)
VISITORS_PER_BUS = 40  # a 45-seat coach, not always full
LOOKBACK = timedelta(hours=3)  # how far before the window a bus's earlier stay is looked for
H3_RESOLUTION = 8  # a bus's first place: a cell of ~0.7 km2


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


def _hour(instant: datetime) -> datetime:
    return instant.replace(minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class StationExits:
    """People who left a rail station in the hour starting at ``at``."""

    station_id: int
    at: datetime
    exits: int


def ingest_station_exits(*, session: Session, exits: Sequence[StationExits], actor: Actor) -> int:
    """Store stations' hourly exits whole or refuse them (a resent hour replaces its count)."""
    with audited_denials(session, actor, "tourism.station_exits", "tourism", None):
        actor.require(Permission.TOURISM_WRITE)
    if len(exits) > MAX_ROWS:
        raise PayloadTooLarge(f"a batch holds at most {MAX_ROWS:,} rows, this one {len(exits):,}")
    given = {e.station_id for e in exits}
    known = set(session.scalars(text("SELECT id FROM rail_stations WHERE id = ANY(:ids)"),
                                {"ids": sorted(given)}))  # fmt: skip
    problems = [f"exits[{i}]: no rail station {e.station_id}" for i, e in enumerate(exits)
                if e.station_id not in known]  # fmt: skip
    if problems:
        named = "; ".join(problems[:3])
        raise InvalidInput(f"{len(problems)} of the {len(exits)} rows are refused and nothing "
                           f"was saved: {named}", problems=problems[:20])  # fmt: skip
    rows = {(e.station_id, _hour(e.at)): e.exits for e in exits}  # the last of an hour wins
    upsert = insert(StationExit).values([{"station_id": s, "at": at, "exits": n}
                                         for (s, at), n in rows.items()])  # fmt: skip
    session.execute(upsert.on_conflict_do_update(
        index_elements=["station_id", "at"], set_={"exits": upsert.excluded.exits},
    ))  # fmt: skip
    record_audit(session, actor=actor, action="tourism.station_exits", target_type="tourism",
                 after={"rows": len(rows), "stations": sorted(given)})  # fmt: skip
    return len(rows)


# Tour buses' stays: each position's park (the smallest holding it, if any), runs of
# positions in one park (or out of all), the runs in a park that last ``dwell``, and for
# each stay the park of the bus's stay before it and where the bus was first seen.
_BUS_STAYS = """
WITH sampled AS (  -- a position a bus and minute is enough to tell a stay of minutes
    SELECT DISTINCT ON (vp.vehicle_id, date_trunc('minute', vp.at))
           vp.vehicle_id, vp.at, vp.lon, vp.lat
    FROM vehicle_positions AS vp JOIN vehicles AS v ON v.id = vp.vehicle_id
    WHERE v.kind = ANY(CAST(:kinds AS text[])) AND vp.at >= :start AND vp.at < :until
    ORDER BY vp.vehicle_id, date_trunc('minute', vp.at), vp.at
), seen AS (
    SELECT s.*, (SELECT p.id FROM parks AS p
                 WHERE ST_Intersects(p.geom, ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326))
                 ORDER BY ST_Area(p.geom), p.id LIMIT 1) AS park_id  -- a spot in a park: the spot
    FROM sampled AS s
), marked AS (
    SELECT *, CASE WHEN park_id IS NOT DISTINCT FROM lag(park_id) OVER w THEN 0 ELSE 1 END AS new
    FROM seen WINDOW w AS (PARTITION BY vehicle_id ORDER BY at)
), runs AS (
    SELECT *, sum(new) OVER (PARTITION BY vehicle_id ORDER BY at) AS run FROM marked
), stays AS (
    SELECT vehicle_id, park_id, min(at) AS arrived FROM runs WHERE park_id IS NOT NULL
    GROUP BY vehicle_id, run, park_id HAVING max(at) - min(at) >= :dwell
), first_seen AS (
    SELECT DISTINCT ON (vehicle_id) vehicle_id, lon, lat, park_id FROM seen
    ORDER BY vehicle_id, at
)
SELECT s.park_id, s.arrived, lag(s.park_id) OVER (PARTITION BY s.vehicle_id ORDER BY s.arrived),
       f.lon, f.lat, f.park_id
FROM stays AS s JOIN first_seen AS f USING (vehicle_id)
"""


def bus_flows(session: Session, since: datetime, until: datetime, dwell: timedelta
              ) -> list[Flow]:  # fmt: skip
    """Return the visitors tour buses brought to parks from ``since`` to ``until``."""
    volumes: Counter[tuple[str, str, int, datetime]] = Counter()
    rows = session.execute(text(_BUS_STAYS), {
        "kinds": list(BUS_KINDS), "start": since - LOOKBACK, "until": until,
        "dwell": dwell,
    })  # fmt: skip
    for park_id, arrived, before, lon, lat, first_park in rows:
        if not since <= arrived < until:
            continue
        if before is not None:  # from the park it stayed in before (if it left it)
            origin = ("park", str(before)) if before != park_id else None
        elif first_park is not None:  # first seen in a park (too briefly to count as a stay)
            origin = ("park", str(first_park)) if first_park != park_id else None
        else:
            origin = ("h3", h3.latlng_to_cell(lat, lon, H3_RESOLUTION))
        if origin:
            volumes[(*origin, park_id, _hour(arrived))] += VISITORS_PER_BUS
    return [Flow(kind, origin, park, at, n) for (kind, origin, park, at), n in volumes.items()]


# Each station's exits of an hour beside each park it is related to and the visitors that
# park's gates counted coming in during that hour.
_STATION_EXITS = """
SELECT e.station_id, e.at, e.exits, r.park_id,
       (SELECT coalesce(sum(b.entered), 0) FROM park_buckets AS b
        WHERE b.park_id = r.park_id AND b.bucket >= e.at
          AND b.bucket < e.at + interval '1 hour') AS arrivals
FROM station_exits AS e
JOIN park_relations AS r
  ON r.layer = 'rail_stations' AND r.feature_id = e.station_id AND NOT r.hidden
WHERE e.at >= :since AND e.at < :until
"""


def station_flows(session: Session, since: datetime, until: datetime) -> list[Flow]:
    """Return stations' exits from ``since`` to ``until`` shared among the parks they feed."""
    rows = session.execute(text(_STATION_EXITS), {"since": since, "until": until}).all()
    fed: defaultdict[tuple[int, datetime], int] = defaultdict(int)  # a station-hour's arrivals
    arrivals = {}
    for station, at, _, park, came in rows:
        fed[(station, at)] += int(came)
        arrivals[(park, at)] = int(came)
    shares = {(station, park, at): exits * int(came) / fed[(station, at)]
              for station, at, exits, park, came in rows if fed[(station, at)]}  # fmt: skip
    given: defaultdict[tuple[int, datetime], float] = defaultdict(float)
    for (_, park, at), volume in shares.items():
        given[(park, at)] += volume
    found = []
    for (station, park, at), volume in shares.items():
        if not volume:
            continue
        scale = min(1.0, arrivals[(park, at)] / given[(park, at)])  # at most what gates counted
        if round(volume * scale):
            found.append(Flow("rail_station", str(station), park, at, round(volume * scale)))
    return found


# Each origin's place by its kind; the park's representative point as the destination.
_ARCS = """
WITH given AS (
    SELECT 'ingested' AS source, f.origin_kind, f.origin, f.park_id, f.volume
    FROM tourism_flows AS f
    WHERE f.at >= :since AND f.at < :until AND f.park_id = ANY(CAST(:parks AS bigint[]))
    UNION ALL
    SELECT 'derived', d.origin_kind, d.origin, d.park_id, d.volume
    FROM unnest(CAST(:kinds AS text[]), CAST(:origins AS text[]), CAST(:park_ids AS bigint[]),
                CAST(:volumes AS integer[])) AS d(origin_kind, origin, park_id, volume)
    WHERE d.park_id = ANY(CAST(:parks AS bigint[]))
), summed AS (
    SELECT source, origin_kind, origin, park_id, sum(volume) AS volume FROM given
    GROUP BY 1, 2, 3, 4
)
SELECT s.source, s.origin_kind, s.origin, s.park_id, p.name, s.volume,
       ST_X(ST_PointOnSurface(p.geom)), ST_Y(ST_PointOnSurface(p.geom)),
       coalesce(op.name, d.name, r.name), coalesce(ST_X(ST_PointOnSurface(op.geom)),
       ST_X(ST_PointOnSurface(d.geom)), ST_X(r.geom)), coalesce(ST_Y(ST_PointOnSurface(op.geom)),
       ST_Y(ST_PointOnSurface(d.geom)), ST_Y(r.geom))
FROM summed AS s JOIN parks AS p ON p.id = s.park_id
LEFT JOIN parks AS op ON s.origin_kind = 'park' AND CAST(op.id AS text) = s.origin
LEFT JOIN districts AS d ON s.origin_kind = 'district' AND d.code = s.origin
LEFT JOIN rail_stations AS r ON s.origin_kind = 'rail_station' AND CAST(r.id AS text) = s.origin
ORDER BY s.volume DESC, s.park_id, s.origin_kind, s.origin, s.source
LIMIT :limit
"""


@dataclass(frozen=True)
class Arc:
    """Visitors from an origin's place to a park's over a window, ingested or derived."""

    source: str
    origin_kind: str
    origin: str
    origin_name: str | None
    park_id: int
    park_name: str
    volume: int
    start: tuple[float, float]
    end: tuple[float, float]


def read_flows(*, session: Session, actor: Actor, since: datetime, until: datetime,
               limit: int, dwell: timedelta) -> list[Arc]:  # fmt: skip
    """Return the arcs into parks the actor may see from ``since`` to ``until``, ingested and
    derived (tour buses staying ``dwell``, station exits), largest first."""
    actor.require(Permission.FEATURES_READ)
    if until <= since:
        raise InvalidInput(f"the window ends ({until.isoformat()}) before it starts "
                           f"({since.isoformat()})")  # fmt: skip
    parks = list(session.scalars(select(Park.id).where(actor.scope.clause(Park))))
    derived = bus_flows(session, since, until, dwell) + station_flows(session, since, until)
    rows = session.execute(text(_ARCS), {
        "since": since, "until": until, "parks": parks, "limit": limit,
        "kinds": [f.origin_kind for f in derived], "origins": [f.origin for f in derived],
        "park_ids": [f.park_id for f in derived], "volumes": [f.volume for f in derived],
    })  # fmt: skip
    arcs = []
    for source, kind, origin, park_id, park_name, volume, px, py, name, ox, oy in rows:
        if kind == "h3":
            oy, ox = h3.cell_to_latlng(origin)
        if ox is None or oy is None:
            continue  # an origin deleted since: no place to draw it from
        arcs.append(Arc(source, kind, origin, name, park_id, park_name, int(volume), (ox, oy),
                        (px, py)))  # fmt: skip
    return arcs
