"""Plausible places for things to happen: at a unit, or by a road, inside a district."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from layers.demo.geography import M_PER_DEG_LAT, M_PER_DEG_LON
from layers.demo.simulate.registry import NothingToDo, World
from layers.demo.simulate.roads import city_roads, random_spot
from layers.features.models import District, Unit

_TRIES = 20


@dataclass(frozen=True)
class UnitPlace:
    """A unit, where it stands and the precinct it belongs to."""

    id: int
    name: str
    lon: float
    lat: float
    precinct_id: int


def random_unit(session: Session, world: World) -> UnitPlace:
    """Return a unit drawn at random (one with a precinct), or raise ``NothingToDo``."""
    bounds = world.memory.get("unit_ids")
    if bounds is None:
        bounds = world.memory["unit_ids"] = tuple(
            session.execute(select(func.min(Unit.id), func.max(Unit.id))).one()
        )
    low, high = bounds
    if low is None:
        raise NothingToDo("the city has no units")
    for _ in range(_TRIES):
        pick = int(world.rng.integers(low, high + 1))
        row = session.execute(
            select(Unit.id, Unit.name, func.ST_X(Unit.geom), func.ST_Y(Unit.geom),
                   Unit.precinct_id)
            .where(Unit.id >= pick, Unit.precinct_id.is_not(None)).order_by(Unit.id).limit(1)
        ).first()  # fmt: skip
        if row is not None:
            return UnitPlace(*row)
    raise NothingToDo("no unit with a precinct was found")


def _offset(rng: np.random.Generator, lon: float, lat: float, low_m: float, high_m: float
            ) -> tuple[float, float]:  # fmt: skip
    """Return a point ``low_m``..``high_m`` metres from ``lon, lat`` in a random direction."""
    angle, distance = rng.uniform(0, 2 * math.pi), rng.uniform(low_m, high_m)
    return (lon + distance * math.sin(angle) / M_PER_DEG_LON,
            lat + distance * math.cos(angle) / M_PER_DEG_LAT)  # fmt: skip


def _in_a_district(session: Session, lon: float, lat: float) -> bool:
    point = func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326)
    return bool(session.scalar(select(exists().where(func.ST_Covers(District.geom, point)))))


def incident_place(session: Session, world: World) -> tuple[float, float, str]:
    """Return where an incident happens — by a unit or on a road — and what it is near."""
    for _ in range(_TRIES):
        if world.rng.random() < 0.5:
            unit = random_unit(session, world)
            lon, lat = _offset(world.rng, unit.lon, unit.lat, 10.0, 120.0)
            near = unit.name
        else:
            index, along = random_spot(world.rng)
            road = city_roads()[index]
            lon, lat, _ = road.at(along)
            lon, lat = _offset(world.rng, lon, lat, 0.0, 15.0)
            near = road.name
        if _in_a_district(session, lon, lat):
            return lon, lat, near
    raise NothingToDo("no place inside a district was found")
