"""Hysteresis: when a run of positions counts as entering or leaving a ring.

A position lies deep inside a ring (``Zone.IN``: inside by the margin or more), far
outside (``Zone.OUT``: outside by the margin or more), or on the edge band between.
Outside, a feature enters once its positions have been ``IN`` without a break for the
dwell (the first ``IN`` position starts the count, a later one at least ``dwell_s``
after it completes it); inside, it leaves the same way through ``OUT``. Anything else
breaks a pending run. So GPS jitter within the band never flaps, and a lone stray
position beyond it does not count unless the dwell is zero.

Examples
--------
>>> standing, crossed = walk(OUTSIDE, [Zone.EDGE, Zone.IN, Zone.EDGE, Zone.IN, Zone.IN],
...                          [0.0, 5.0, 10.0, 15.0, 30.0], dwell_s=10.0)
>>> standing.inside, crossed
(True, [Crossing(index=4, since=15.0)])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum


class Zone(IntEnum):
    """Where a position lies towards a ring, given the margin."""

    OUT = 0
    EDGE = 1
    IN = 2


@dataclass(frozen=True)
class Standing:
    """Inside a ring or not, and since when (epoch seconds) a crossing has been pending."""

    inside: bool
    pending_since: float | None = None


@dataclass(frozen=True)
class Crossing:
    """The position (``index``) completing a crossing that began at ``since``."""

    index: int
    since: float


OUTSIDE = Standing(inside=False)


def step(
    standing: Standing, zone: Zone, at: float, dwell_s: float
) -> tuple[Standing, float | None]:
    """Return the standing after a position at ``at``, and the crossing's start if it crossed."""
    beyond = zone is (Zone.OUT if standing.inside else Zone.IN)
    if not beyond:
        return (standing if standing.pending_since is None
                else Standing(standing.inside)), None  # fmt: skip
    since = at if standing.pending_since is None else standing.pending_since
    if at - since >= dwell_s:
        return Standing(not standing.inside), since
    return Standing(standing.inside, since), None


def walk(
    standing: Standing, zones: Sequence[Zone], times: Sequence[float], dwell_s: float
) -> tuple[Standing, list[Crossing]]:
    """Return the standing after positions in time order, and each crossing on the way."""
    crossed: list[Crossing] = []
    for index, (zone, at) in enumerate(zip(zones, times, strict=True)):
        standing, since = step(standing, zone, at, dwell_s)
        if since is not None:
            crossed.append(Crossing(index, since))
    return standing, crossed
