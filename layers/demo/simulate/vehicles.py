"""Vehicles (车辆): a fleet drives along the city's roads and reports GPS positions.

Each event moves the whole fleet on by ``DRIVE_S`` seconds of driving and posts one
batch of positions through the vehicle-track door (``ingest_positions``, as a
commander — the role that holds ``tracks:write``), so vehicles move on the map and the
geofence raises its alerts. A vehicle joins the fleet on the road nearest to it, drives
at its kind's speed, turns back at a road's end and goes round a ring road.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from layers.demo.geography import M_PER_DEG_LAT, M_PER_DEG_LON
from layers.demo.simulate.actors import COMMANDER
from layers.demo.simulate.registry import Motion, NothingToDo, Outcome, World, register
from layers.demo.simulate.roads import city_roads, nearest_road
from layers.features.models import Vehicle
from layers.tracks.batch import Position
from layers.tracks.service import ingest_positions

DRIVE_S = 10.0  # seconds of driving each event moves the fleet on
GPS_SIGMA_M = 3.0  # receiver noise around the road's centre line
GPS_MAX_M = 8.0
_SPEED_KMH = {"taxi": 40.0, "rental": 40.0, "bus": 25.0, "tour_bus": 30.0, "police": 50.0}


@dataclass
class Drive:
    """Where a fleet vehicle is: its road, how far along, which way, how fast."""

    road: int
    along_km: float
    direction: int  # +1 along the road's drawing, -1 against it
    speed_kmh: float

    def drive(self, seconds: float) -> None:
        """Move on ``seconds`` of driving: round a ring road, back at a road's end."""
        road = city_roads()[self.road]
        along = self.along_km + self.direction * self.speed_kmh * seconds / 3600.0
        if road.closed:
            along %= road.length_km
        elif not 0.0 <= along <= road.length_km:
            self.direction = -self.direction
            along = min(max(along, 0.0), road.length_km)
        self.along_km = along


def _fleet(session: Session, world: World) -> dict[int, Drive]:
    """Return the fleet, drawing its vehicles (and their roads) on the first call."""
    fleet: dict[int, Drive] | None = world.memory.get("vehicles")
    if fleet is not None:
        return fleet
    fleet = world.memory["vehicles"] = {}
    low, high = session.execute(select(func.min(Vehicle.id), func.max(Vehicle.id))).one()
    for _ in range(0 if low is None else 3 * world.fleet_size):
        if len(fleet) == world.fleet_size:
            break
        row = session.execute(
            select(Vehicle.id, Vehicle.kind, func.ST_X(Vehicle.geom), func.ST_Y(Vehicle.geom))
            .where(Vehicle.id >= int(world.rng.integers(low, high + 1)))
            .order_by(Vehicle.id).limit(1)
        ).first()  # fmt: skip
        if row is None or row[0] in fleet:
            continue
        vehicle_id, kind, lon, lat = row
        road, along = nearest_road(lon, lat)
        speed = _SPEED_KMH.get(kind, 40.0) * world.rng.uniform(0.8, 1.2)
        fleet[vehicle_id] = Drive(road, along, int(world.rng.choice([-1, 1])), speed)
    return fleet


def _fix(world: World, lon: float, lat: float) -> tuple[float, float]:
    """Return a GPS fix of ``lon, lat``: a few metres of receiver noise."""
    east, north = np.clip(world.rng.normal(0.0, GPS_SIGMA_M, 2), -GPS_MAX_M, GPS_MAX_M)
    return lon + float(east) / M_PER_DEG_LON, lat + float(north) / M_PER_DEG_LAT


def drive_fleet(session: Session, world: World) -> Outcome:
    """Move every fleet vehicle on along its road and post the batch of their positions."""
    fleet = _fleet(session, world)
    if not fleet:
        raise NothingToDo("the city has no vehicles")
    at = world.now()
    positions = []
    for vehicle_id, drive in sorted(fleet.items()):
        drive.drive(DRIVE_S)
        lon, lat, heading = city_roads()[drive.road].at(drive.along_km)
        if drive.direction < 0:
            heading = (heading + 180.0) % 360.0
        lon, lat = _fix(world, lon, lat)
        positions.append(Position(vehicle_id, at, lon, lat, round(drive.speed_kmh, 1),
                                  math.floor(heading * 10) / 10 % 360.0))  # fmt: skip
    report = ingest_positions(session=session, positions=positions, actor=COMMANDER,
                              tracks=world.settings.tracks, geofence=world.settings.geofence,
                              now=at)  # fmt: skip
    return Outcome(
        f"{report.moved} vehicles moved, {len(report.alert_ids)} geofence alerts",
        features=tuple(("vehicles", v) for v in sorted(fleet)), positions=report.stored,
        alerts=tuple(report.alert_ids),
    )  # fmt: skip


register(Motion("vehicles.drive", 4.0, drive_fleet, "the fleet drives on and reports positions"))
