"""Visitors (游客): the parks' gates count a holiday day, compressed so a run shows it.

A minute of the holiday passes each real second (``MINUTES_PER_SECOND``), and at least
``STEP_MIN`` minutes each event (a fast run still walks the day), from 06:00: the
morning rise, the peak near 10:30, a smaller one after lunch, and about one park in
eight over 95 % of its capacity (``layers.tourism.demo``). Each event posts one batch
of the gates' readings of the holiday minutes passed since the last, stamped now,
through the count door (``ingest_counts``) as the tourism team, so parks fill on the
map and capacity alerts fire on the stream.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from layers.accounts.roles import Role
from layers.accounts.scope import CITY, Actor
from layers.demo.simulate.actors import PREFIX
from layers.demo.simulate.registry import Motion, NothingToDo, Outcome, World, register
from layers.tourism.counts import Reading, ingest_counts
from layers.tourism.demo import (
    MINUTES,
    DemoPark,
    FloatArray,
    demo_parks,
    expected_flow,
    peak_shares,
)

TOURISM = Actor(None, f"{PREFIX}tourism", Role.TOURISM, CITY, "simulate")
MINUTES_PER_SECOND = 1.0
STEP_MIN = 5
OPENS_MIN = 6 * 60


@dataclass
class Holiday:
    """The run's holiday: its parks, their expected flows a minute, the minutes posted."""

    parks: list[DemoPark]
    flows: list[tuple[FloatArray, FloatArray]]
    started: datetime
    done: int = OPENS_MIN


def holiday_of(session: Session, world: World) -> Holiday:
    """Return the run's holiday (made at its first use: the parks' flows drawn once)."""
    found: Holiday | None = world.memory.get("visitors")
    if found is None:
        parks = demo_parks(session)
        shares = peak_shares(len(parks), world.rng)
        pairs = zip(parks, shares, strict=True)
        flows = [expected_flow(float(s), p.capacity, world.rng) for p, s in pairs]
        found = world.memory["visitors"] = Holiday(parks, flows, world.now())
    return found


def minute_due(holiday: Holiday, done: int, now: datetime) -> int:
    """Return the holiday's minute that is due ``now``, at least ``STEP_MIN`` after ``done``."""
    passed = (now - holiday.started).total_seconds() * MINUTES_PER_SECOND
    return min(MINUTES, max(OPENS_MIN + int(passed), done + STEP_MIN))


def count_visitors(session: Session, world: World) -> Outcome:
    """Post the gates' readings of the holiday minutes passed since the last event."""
    holiday = holiday_of(session, world)
    if not holiday.parks:
        raise NothingToDo("the city has no parks with counting gates")
    now = world.now()
    upto = minute_due(holiday, holiday.done, now)
    if upto <= holiday.done:
        raise NothingToDo("the holiday is over")
    readings = []
    for park, (arrive, leave) in zip(holiday.parks, holiday.flows, strict=True):
        gates = len(park.gates)
        ins = world.rng.poisson(arrive[holiday.done : upto].sum() / gates, gates)
        outs = world.rng.poisson(leave[holiday.done : upto].sum() / gates, gates)
        counted = zip(park.gates, ins, outs, strict=True)
        readings += [Reading(code, now, int(i), int(o)) for code, i, o in counted if i or o]
    clock = f"{upto // 60:02d}:{upto % 60:02d}"
    holiday.done = upto
    if not readings:
        raise NothingToDo(f"the gates counted nobody by {clock}")
    report = ingest_counts(session=session, readings=readings, actor=TOURISM,
                           settings=world.settings.tourism, zone=world.settings.zone,
                           now=now)  # fmt: skip
    return Outcome(f"holiday {clock}: {report.stored} gate readings in {len(report.parks)} "
                   f"parks, {len(report.alert_ids)} capacity alerts",
                   alerts=tuple(report.alert_ids))  # fmt: skip


register(
    Motion(
        "visitors.count",
        2.0,
        count_visitors,
        "park gates count a holiday day (a minute a second); capacity alerts fire",
    )
)
