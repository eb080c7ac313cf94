"""Stations (车站): rail stations near parks let the holiday's crowds out, hour by hour.

On the visitors' holiday clock (``visitors.minute_due``, a minute of the day a real
second), each event draws the exits of the holiday minutes passed since the last at
every station related to a park: its share of those parks' rail visitors, from the same
expected arrivals the gates count (``layers.tourism.demo.expected_exits``), and its own
traffic. It adds them to the current real hour's count and posts that hour's counts
through the stations' door (``ingest_station_exits``, a resent hour replaces its count)
as the tourism team, so ``GET /api/tourism/flows`` derives arcs from the stations.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from layers.demo.simulate.registry import Motion, NothingToDo, Outcome, World, register
from layers.demo.simulate.visitors import OPENS_MIN, TOURISM, holiday_of, minute_due
from layers.tourism.demo import FloatArray, expected_exits, station_parks
from layers.tourism.flows import StationExits, ingest_station_exits


@dataclass
class Exits:
    """The stations' expected exits a minute, the minutes drawn, the current hour's counts."""

    expected: dict[int, FloatArray]
    done: int = OPENS_MIN
    hour: datetime | None = None
    counted: Counter[int] = field(default_factory=Counter)


def _exits(session: Session, world: World) -> Exits:
    found: Exits | None = world.memory.get("stations")
    if found is None:
        holiday = holiday_of(session, world)
        arrivals = {p.park_id: arrive for p, (arrive, _) in
                    zip(holiday.parks, holiday.flows, strict=True)}  # fmt: skip
        found = Exits(expected_exits(station_parks(session), arrivals))
        world.memory["stations"] = found
    return found


def post_exits(session: Session, world: World) -> Outcome:
    """Add the holiday minutes since the last to the hour's exits near parks; post the hour."""
    holiday, exits = holiday_of(session, world), _exits(session, world)
    if not exits.expected:
        raise NothingToDo("no rail station is related to a park")
    now = world.now()
    upto = minute_due(holiday, exits.done, now)
    if upto <= exits.done:
        raise NothingToDo("the holiday is over")
    hour = now.replace(minute=0, second=0, microsecond=0)
    if hour != exits.hour:  # a new hour starts its counts from nothing
        exits.hour, exits.counted = hour, Counter()
    for station, expected in exits.expected.items():
        exits.counted[station] += int(world.rng.poisson(expected[exits.done : upto].sum()))
    exits.done = upto
    rows = [StationExits(s, now, n) for s, n in sorted(exits.counted.items()) if n]
    if not rows:
        raise NothingToDo("nobody left the stations yet")
    stored = ingest_station_exits(session=session, exits=rows, actor=TOURISM)
    clock = f"{upto // 60:02d}:{upto % 60:02d}"
    return Outcome(f"holiday {clock}: {sum(exits.counted.values())} exits this hour at "
                   f"{stored} stations near parks")  # fmt: skip


register(
    Motion(
        "stations.exits",
        1.0,
        post_exits,
        "rail stations near parks post the hour's exits (the visitors' holiday clock)",
    )
)
