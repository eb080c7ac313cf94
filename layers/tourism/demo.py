"""The demo city's share of tourism: daily capacities, gates and cameras, relations, a
plausible holiday day of visitor counts, and the rail stations' exits of one.

A holiday day (``holiday_day``): visitors arrive from 06:00 with a morning rise and a
peak near 10:30 and a smaller one after lunch, stay about two and a half hours, and the
park's peak occupancy is a share of its capacity drawn per park — most between 40 and
85 %, about one park in eight over 95 % (some over capacity). Gates count in and out
each minute with Poisson noise.

Station exits (``holiday_exits``): a station near parks lets out ``RAIL_SHARE`` of their
visitors (split among the stations related to each park) ``WALK_MIN`` minutes before
they reach the gates, and ``STATION_OWN`` people an hour of its own (residents,
shoppers) while trains run; the demo load writes the 24 complete hours before it, each
hour as the holiday's hour of the same local time, through the stations' door.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
from sqlalchemy import text
from sqlalchemy.orm import Session

from layers.accounts.roles import Role
from layers.accounts.scope import CITY, Actor
from layers.tourism.counts import Reading
from layers.tourism.flows import MAX_ROWS, StationExits, ingest_station_exits
from layers.tourism.relations import compute_relations

GATES_PER_PARK = 3
DAILY_TURNOVER = 3  # a day's visitors: three times what the park holds at once
MINUTES = 24 * 60
FloatArray = npt.NDArray[np.float64]
DEMO_ZONE = ZoneInfo("Asia/Shanghai")  # the demo city is Beijing
DEMO = Actor(None, "demo:tourism", Role.TOURISM, CITY, "demo")
RAIL_SHARE = 0.35  # of a park's visitors, those who come by rail
WALK_MIN = 10  # from the station's exit to the park's gate
STATION_OWN = 120  # a station's exits an hour not bound for a park, 06:00-23:00
EXITS_SEED = 18

_CAPACITIES = "UPDATE parks SET daily_capacity = capacity * :turnover"
# Gates spread along the outline; a camera and a scenic spot inside; codes from the park's.
_POINTS = """
INSERT INTO tourism_points (park_id, code, name, kind, counts, geom, version)
SELECT p.id, coalesce(p.external_id, 'P' || p.id) || '-G' || g.n, p.name || g.n || '号门',
       'gate', true,
       ST_LineInterpolatePoint(ST_ExteriorRing(ST_GeometryN(p.geom, 1)),
                               (g.n - 1) / CAST(:gates AS float8)), 1
FROM parks AS p CROSS JOIN generate_series(1, :gates) AS g(n);
INSERT INTO tourism_points (park_id, code, name, kind, counts, geom, version)
SELECT p.id, coalesce(p.external_id, 'P' || p.id) || k.suffix, p.name || k.title, k.kind,
       false, ST_PointOnSurface(p.geom), 1
FROM parks AS p CROSS JOIN (VALUES ('-C1', '监控点', 'camera'), ('-S1', '主景点', 'spot'))
     AS k(suffix, title, kind)
"""


def load_demo_tourism(session: Session, walk_m: float = 800.0, now: datetime | None = None
                      ) -> int:  # fmt: skip
    """Give the demo's parks daily capacities, gates, a camera and a spot, relations, and
    their stations a holiday's exits in the 24 hours before ``now``; return the points made."""
    session.execute(text(_CAPACITIES), {"turnover": DAILY_TURNOVER})
    for statement in _POINTS.split(";"):
        session.execute(text(statement), {"gates": GATES_PER_PARK})
    parks = list(session.scalars(text("SELECT id FROM parks ORDER BY id")))
    compute_relations(session, parks, walk_m)
    load_demo_station_exits(session, now or datetime.now(DEMO_ZONE))
    return int(session.scalar(text("SELECT count(*) FROM tourism_points")) or 0)


def _bump(t: FloatArray, centre: float, width: float) -> FloatArray:
    return np.asarray(np.exp(-0.5 * ((t - centre) / width) ** 2), dtype=np.float64)


def expected_flow(peak_share: float, capacity: int, rng: np.random.Generator
                  ) -> tuple[FloatArray, FloatArray]:  # fmt: skip
    """Return the expected visitors in and out of a park each minute of a holiday day."""
    t = np.arange(MINUTES, dtype=np.float64)
    shift = rng.normal(0, 20)
    arrive = _bump(t, 630 + shift, 100) + 0.55 * _bump(t, 840 + shift, 80)
    arrive[(t < 360) | (t > 1080)] = 0.0  # gates open 06:00-18:00
    stay = rng.gamma(6.0, 25.0, 20_000)  # minutes, mean 150
    leave_pdf = np.bincount(np.minimum(stay.astype(int), MINUTES - 1), minlength=MINUTES)
    leave = np.convolve(arrive, leave_pdf / leave_pdf.sum())[:MINUTES]
    inside = np.cumsum(arrive - leave)
    scale = peak_share * capacity / max(float(inside.max()), 1e-9)
    return arrive * scale, leave * scale


def peak_shares(n: int, rng: np.random.Generator) -> FloatArray:
    """Return the peak occupancy of ``n`` parks as shares of capacity (some over 0.95)."""
    share = rng.uniform(0.4, 0.85, n)
    crowded = rng.random(n) < 0.125
    share[crowded] = rng.uniform(0.95, 1.15, int(crowded.sum()))
    return share


@dataclass(frozen=True)
class DemoPark:
    """A park of the demo as the simulation needs it: id, capacity and its gates' codes."""

    park_id: int
    capacity: int
    gates: Sequence[str]


def holiday_day(parks: Sequence[DemoPark], day: date, zone: ZoneInfo, seed: int,
                until: datetime | None = None) -> list[Reading]:  # fmt: skip
    """Return a holiday day of per-minute gate readings for ``parks`` (up to ``until``)."""
    rng = np.random.default_rng(seed)
    start = datetime.combine(day, time.min, zone)
    last = MINUTES if until is None else int((until - start).total_seconds() // 60)
    readings: list[Reading] = []
    for park, share in zip(parks, peak_shares(len(parks), rng), strict=True):
        arrive, leave = expected_flow(float(share), park.capacity, rng)
        for gate in park.gates:
            ins = rng.poisson(arrive / len(park.gates))
            outs = rng.poisson(leave / len(park.gates))
            for minute in np.flatnonzero((ins + outs) > 0):
                if minute >= last:
                    break
                at = start + timedelta(minutes=int(minute) + 1)
                readings.append(Reading(gate, at, int(ins[minute]), int(outs[minute])))
    return readings


def demo_parks(session: Session) -> list[DemoPark]:
    """Return the parks that have counting gates, with their capacities and gate codes."""
    rows = session.execute(text(
        "SELECT p.id, p.capacity, array_agg(t.code ORDER BY t.code) FROM parks AS p "
        "JOIN tourism_points AS t ON t.park_id = p.id AND t.kind = 'gate' AND t.counts "
        "WHERE p.capacity > 0 GROUP BY p.id ORDER BY p.id"
    ))  # fmt: skip
    return [DemoPark(pid, cap, codes) for pid, cap, codes in rows]


def station_parks(session: Session) -> dict[int, list[int]]:
    """Return each rail station related to parks (not hidden) with those parks' ids."""
    rows = session.execute(text(
        "SELECT feature_id, array_agg(park_id ORDER BY park_id) FROM park_relations "
        "WHERE layer = 'rail_stations' AND NOT hidden GROUP BY feature_id ORDER BY feature_id"
    ))  # fmt: skip
    return {int(station): [int(p) for p in parks] for station, parks in rows}


def expected_exits(stations: dict[int, list[int]], arrivals: dict[int, FloatArray]
                   ) -> dict[int, FloatArray]:  # fmt: skip
    """Return each station's expected exits each minute of a holiday day, from its parks'
    expected arrivals a minute (``expected_flow``) and its own traffic."""
    fed_by = Counter(p for parks in stations.values() for p in parks)  # stations a park has
    t = np.arange(MINUTES)
    own = np.where((t >= 360) & (t < 1380), STATION_OWN / 60, 0.0)
    found = {}
    for station, parks in stations.items():
        exits = own.copy()
        for park in parks:
            if park in arrivals:  # leaving the train WALK_MIN before the gate counts them
                exits += np.roll(arrivals[park], -WALK_MIN) * RAIL_SHARE / fed_by[park]
        found[station] = exits
    return found


def holiday_exits(stations: dict[int, list[int]], parks: Sequence[DemoPark], until: datetime,
                  zone: ZoneInfo, seed: int) -> list[StationExits]:  # fmt: skip
    """Return the stations' exits in the 24 complete hours before ``until``, each hour as
    the holiday's hour of the same local time (Poisson noise on the expected count)."""
    rng = np.random.default_rng(seed)
    shares = peak_shares(len(parks), rng)
    arrivals = {p.park_id: expected_flow(float(s), p.capacity, rng)[0]
                for p, s in zip(parks, shares, strict=True)}  # fmt: skip
    minutes = expected_exits(stations, arrivals)
    hourly = {station: e.reshape(24, 60).sum(axis=1) for station, e in minutes.items()}
    last = until.astimezone(zone).replace(minute=0, second=0, microsecond=0)
    hours = [last - timedelta(hours=n) for n in range(24, 0, -1)]
    found = []
    for station, expected in hourly.items():
        for hour in hours:
            exits = int(rng.poisson(expected[hour.astimezone(zone).hour]))
            if exits:
                found.append(StationExits(station, hour, exits))
    return found


def load_demo_station_exits(session: Session, until: datetime, seed: int = EXITS_SEED) -> int:
    """Post the demo stations' holiday exits of the 24 hours before ``until`` through the
    stations' door (as the demo's tourism team); return the rows stored."""
    rows = holiday_exits(station_parks(session), demo_parks(session), until, DEMO_ZONE, seed)
    return sum(ingest_station_exits(session=session, exits=rows[i : i + MAX_ROWS], actor=DEMO)
               for i in range(0, len(rows), MAX_ROWS))  # fmt: skip
