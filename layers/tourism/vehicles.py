"""车辆关联: tour buses and other vehicles tied to parks — registered by the team, or inferred
from their tracks (``layers.tracks``) dwelling inside a park.

A vehicle counts as a park's once its positions inside the park's outline span at least
``dwell_min`` minutes within the window looked at; an inferred tie never replaces a
registered one. A vehicle's route of the last hours is its track
(``GET /api/vehicles/{id}/track``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from layers.accounts.roles import Permission
from layers.accounts.scope import Actor
from layers.audit.service import audited_denials, record_audit
from layers.errors import NotFound
from layers.features.models import Park, Vehicle
from layers.features.registry import get_layer
from layers.features.service import get_feature
from layers.tourism.models import ParkVehicle
from layers.tourism.parks import visible_park

INFERRED_KINDS = ("tour_bus", "rental")

_INFER = """
INSERT INTO park_vehicles (park_id, vehicle_id, source, since)
SELECT p.id, v.id, 'inferred', min(vp.at)
FROM vehicles AS v
JOIN vehicle_positions AS vp ON vp.vehicle_id = v.id AND vp.at >= :since AND vp.at <= :until
JOIN parks AS p ON ST_Intersects(p.geom, ST_SetSRID(ST_MakePoint(vp.lon, vp.lat), 4326))
WHERE v.kind = ANY(CAST(:kinds AS text[])) AND p.id = ANY(CAST(:parks AS bigint[]))
GROUP BY p.id, v.id
HAVING max(vp.at) - min(vp.at) >= :dwell
ON CONFLICT DO NOTHING
"""


def infer_vehicles(*, session: Session, actor: Actor, now: datetime, window_h: float,
                   dwell_min: float) -> int:  # fmt: skip
    """Tie to parks the actor may see the vehicles dwelling in them lately; return ties made."""
    with audited_denials(session, actor, "park_vehicles.infer", "parks", None):
        actor.require(Permission.TOURISM_WRITE)
    parks = list(session.scalars(select(Park.id).where(actor.scope.clause(Park))))
    made = session.execute(text(_INFER), {
        "since": now - timedelta(hours=window_h), "until": now, "kinds": list(INFERRED_KINDS),
        "parks": parks, "dwell": timedelta(minutes=dwell_min),
    })  # fmt: skip
    count = int(made.rowcount or 0)  # type: ignore[attr-defined]
    record_audit(session, actor=actor, action="park_vehicles.infer", target_type="parks",
                 after={"window_h": window_h, "dwell_min": dwell_min, "made": count})  # fmt: skip
    return count


def register_vehicle(*, session: Session, park_id: int, vehicle_id: int, actor: Actor) -> None:
    """Tie a vehicle to a park by hand (an inferred tie becomes a registered one)."""
    with audited_denials(session, actor, "park_vehicles.create", "parks", park_id):
        actor.require(Permission.TOURISM_WRITE)
        park = visible_park(session, park_id, actor)
        get_feature(session=session, spec=get_layer("vehicles"), feature_id=vehicle_id,
                    actor=actor)  # fmt: skip
    upsert = insert(ParkVehicle).values(park_id=park.id, vehicle_id=vehicle_id,
                                        source="registered")  # fmt: skip
    session.execute(upsert.on_conflict_do_update(
        index_elements=["park_id", "vehicle_id"], set_={"source": "registered"},
    ))  # fmt: skip
    record_audit(session, actor=actor, action="park_vehicles.create", target_type="parks",
                 target_id=park.id, after={"vehicle_id": vehicle_id})  # fmt: skip


def unregister_vehicle(*, session: Session, park_id: int, vehicle_id: int, actor: Actor) -> None:
    """Untie a vehicle from a park."""
    with audited_denials(session, actor, "park_vehicles.delete", "parks", park_id):
        actor.require(Permission.TOURISM_WRITE)
        park = visible_park(session, park_id, actor)
    gone = session.execute(delete(ParkVehicle).where(
        ParkVehicle.park_id == park.id, ParkVehicle.vehicle_id == vehicle_id,
    ))  # fmt: skip
    if not gone.rowcount:  # type: ignore[attr-defined]
        raise NotFound(f"vehicle {vehicle_id} is not tied to park {park_id}")
    record_audit(session, actor=actor, action="park_vehicles.delete", target_type="parks",
                 target_id=park.id, before={"vehicle_id": vehicle_id})  # fmt: skip


@dataclass(frozen=True)
class ParkVehicleRow:
    """A vehicle tied to a park, at its last known position."""

    vehicle: Vehicle
    source: str
    since: datetime
    lon: float
    lat: float


def park_vehicles(*, session: Session, park_id: int, actor: Actor) -> list[ParkVehicleRow]:
    """Return the vehicles tied to a park the actor may see, last seen first."""
    park = visible_park(session, park_id, actor)
    rows = session.execute(
        select(Vehicle, ParkVehicle.source, ParkVehicle.since, func.ST_X(Vehicle.geom),
               func.ST_Y(Vehicle.geom))
        .join(ParkVehicle, ParkVehicle.vehicle_id == Vehicle.id)
        .where(ParkVehicle.park_id == park.id)
        .order_by(Vehicle.position_at.desc().nulls_last(), Vehicle.id)
    )  # fmt: skip
    return [ParkVehicleRow(*row) for row in rows]


def vehicles_per_park(*, session: Session, actor: Actor) -> dict[int, int]:
    """Return how many vehicles are tied to each park the actor may see (parks with any)."""
    actor.require(Permission.FEATURES_READ)
    rows = session.execute(
        select(ParkVehicle.park_id, func.count()).join(Park, Park.id == ParkVehicle.park_id)
        .where(actor.scope.clause(Park)).group_by(ParkVehicle.park_id)
    )  # fmt: skip
    return {park_id: int(n) for park_id, n in rows}
