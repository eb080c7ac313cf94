"""Tourism monitoring: counters post counts; parks' occupancy, curves, alerts, points, relations."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Response
from pydantic import AwareDatetime

from api.access import FEATURE_READERS, requires
from api.deps import CurrentActor, LimitDep, SessionDep, SettingsDep, if_match_version
from api.schemas.tourism import (
    AlertPublic,
    AlertsPublic,
    ArcPublic,
    ArcsPublic,
    CountBatchIn,
    CountsPublic,
    CurvePublic,
    FlowBatchIn,
    LevelsIn,
    LevelsPublic,
    OccupanciesPublic,
    OccupancyPublic,
    ParkVehiclePublic,
    ParkVehiclesPublic,
    PointIn,
    PointPublic,
    PointsPublic,
    RelatedPublic,
    RelationIn,
    RelationsPublic,
    StationExitBatchIn,
    VehicleIn,
)
from layers.accounts.roles import Permission
from layers.tourism import alerts, flows, points, relations, vehicles
from layers.tourism.counts import ingest_counts
from layers.tourism.models import ParkAlert
from layers.tourism.occupancy import ParkOccupancy, read_day_curve, read_occupancy
from layers.tourism.parks import Levels, levels_of, set_levels, visible_park
from layers.values import storable_instant

TOURISM_WRITERS = requires(Permission.TOURISM_WRITE)
router = APIRouter(prefix="/api/tourism", tags=["tourism"])
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]


def _levels(levels: Levels) -> LevelsPublic:
    return LevelsPublic(yellow=levels.yellow, orange=levels.orange, red=levels.red,
                        stop=levels.stop, version=levels.version)  # fmt: skip


def _occupancy(o: ParkOccupancy) -> OccupancyPublic:
    park = o.park
    return OccupancyPublic(
        park_id=park.id, name=park.name, kind=park.kind, grade=park.grade,
        capacity=park.capacity, daily_capacity=park.daily_capacity, entered=o.entered,
        exited=o.exited, visitors=o.visitors, deficit=o.deficit, ratio=o.ratio,
        daily_ratio=o.daily_ratio, level=o.level, daily_level=o.daily_level,
        levels=_levels(o.levels), forecast_30=o.forecast.get(30), forecast_60=o.forecast.get(60),
    )  # fmt: skip


def _alert(a: ParkAlert) -> AlertPublic:
    return AlertPublic(id=a.id, park_id=a.park_id, park_name=a.park_name, basis=a.basis,
                       level=a.level, previous=a.previous, visitors=a.visitors,
                       capacity=a.capacity, ratio=a.ratio, at=a.at)  # fmt: skip


def _point(row: points.PointRow) -> PointPublic:
    p = row.point
    return PointPublic(id=p.id, geometry={"type": "Point", "coordinates": [row.lon, row.lat]},
                       properties={"park_id": p.park_id, "code": p.code, "name": p.name,
                                   "kind": p.kind, "counts": p.counts,
                                   "version": p.version})  # fmt: skip


@router.post("/counts", dependencies=[Depends(TOURISM_WRITERS)])
def create_counts(
    body: CountBatchIn, session: SessionDep, actor: CurrentActor, settings: SettingsDep
) -> CountsPublic:
    """Store a counters' batch whole or refuse it; occupancy and alerts follow."""
    report = ingest_counts(session=session, readings=body.to_domain(), actor=actor,
                           settings=settings.tourism, zone=settings.zone)  # fmt: skip
    return CountsPublic(received=report.received, stored=report.stored, parks=report.parks,
                        alert_ids=report.alert_ids)  # fmt: skip


@router.get("/occupancy", dependencies=[Depends(FEATURE_READERS)])
def list_occupancy(session: SessionDep, actor: CurrentActor, settings: SettingsDep,
                   ) -> OccupanciesPublic:  # fmt: skip
    """Return every park you may see now: visitors, ratios to capacity, levels, forecast."""
    now = datetime.now(UTC)
    found = read_occupancy(session=session, actor=actor, settings=settings.tourism,
                           zone=settings.zone, now=now)  # fmt: skip
    return OccupanciesPublic(at=now, data=[_occupancy(o) for o in found], count=len(found))


@router.get("/parks/{park_id}/occupancy", dependencies=[Depends(FEATURE_READERS)])
def read_park_curve(
    park_id: Id, session: SessionDep, actor: CurrentActor, settings: SettingsDep,
    day: Annotated[date | None, Query(description="local day; today if absent")] = None,
) -> CurvePublic:  # fmt: skip
    """Return a park's occupancy through a day in 5-minute buckets; today's with a forecast."""
    curve = read_day_curve(session=session, park_id=park_id, actor=actor, day=day,
                           zone=settings.zone, now=datetime.now(UTC))  # fmt: skip
    return CurvePublic(
        park_id=curve.park.id, name=curve.park.name, day=curve.day, capacity=curve.park.capacity,
        buckets=curve.buckets, entered=curve.entered, exited=curve.exited,
        visitors=curve.visitors, short=curve.short, forecast_30=curve.forecast.get(30),
        forecast_60=curve.forecast.get(60),
    )  # fmt: skip


@router.get("/alerts", dependencies=[Depends(FEATURE_READERS)])
def list_alerts(
    session: SessionDep, actor: CurrentActor, limit: LimitDep,
    park_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> AlertsPublic:  # fmt: skip
    """Return the capacity alerts of parks you may see, newest first."""
    found = alerts.list_alerts(session=session, actor=actor, limit=limit, park_id=park_id)
    return AlertsPublic(data=[_alert(a) for a in found], count=len(found))


@router.get("/parks/{park_id}/levels", dependencies=[Depends(FEATURE_READERS)])
def read_levels(park_id: Id, session: SessionDep, actor: CurrentActor, settings: SettingsDep,
                response: Response) -> LevelsPublic:  # fmt: skip
    """Return a park's alert thresholds (version 0: the defaults) with the version as ETag."""
    park = visible_park(session, park_id, actor)
    levels = levels_of(session, [park.id], settings.tourism)[park.id]
    response.headers["ETag"] = f'"{levels.version}"'
    return _levels(levels)


@router.put("/parks/{park_id}/levels", dependencies=[Depends(TOURISM_WRITERS)])
def update_levels(
    park_id: Id, body: LevelsIn, session: SessionDep, actor: CurrentActor,
    response: Response, if_match: str | None = Header(default=None),
) -> LevelsPublic:  # fmt: skip
    """Give a park thresholds of its own at the If-Match version ("0" replaces the defaults)."""
    levels = set_levels(session=session, park_id=park_id, actor=actor,
                        levels=Levels(body.yellow, body.orange, body.red, body.stop),
                        expected_version=if_match_version(if_match))  # fmt: skip
    response.headers["ETag"] = f'"{levels.version}"'
    return _levels(levels)


@router.get("/points", dependencies=[Depends(FEATURE_READERS)])
def list_points(
    session: SessionDep, actor: CurrentActor,
    park_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> PointsPublic:  # fmt: skip
    """Return the gates, counters, cameras and spots of parks you may see, as GeoJSON."""
    found = points.list_points(session=session, actor=actor, park_id=park_id)
    return PointsPublic(features=[_point(p) for p in found])


@router.post("/points", status_code=201, dependencies=[Depends(TOURISM_WRITERS)])
def create_point(body: PointIn, session: SessionDep, actor: CurrentActor) -> PointPublic:
    """Create a monitored point of a park, within 300 m of it."""
    row = points.create_point(session=session, actor=actor, point_in=points.PointIn(
        body.park_id, body.code, body.clean_name(), body.kind, body.lon, body.lat, body.counts,
    ))  # fmt: skip
    return _point(row)


@router.delete("/points/{point_id}", status_code=204, dependencies=[Depends(TOURISM_WRITERS)])
def delete_point(point_id: Id, session: SessionDep, actor: CurrentActor,
                 if_match: str | None = Header(default=None)) -> None:  # fmt: skip
    """Delete a point at the If-Match version; its readings stay in the history."""
    points.delete_point(session=session, point_id=point_id, actor=actor,
                        expected_version=if_match_version(if_match))  # fmt: skip


@router.get("/parks/{park_id}/relations", dependencies=[Depends(FEATURE_READERS)])
def list_relations(park_id: Id, session: SessionDep, actor: CurrentActor) -> RelationsPublic:
    """Return a park's gates and the stations and stops within walking distance."""
    found = relations.list_relations(session=session, park_id=park_id, actor=actor)
    data = [RelatedPublic(layer=r.layer, feature_id=r.feature_id, name=r.name,
                          distance_m=r.distance_m, source=r.source, lon=r.lon, lat=r.lat)
            for r in found]  # fmt: skip
    return RelationsPublic(park_id=park_id, data=data, count=len(data))


@router.post("/parks/{park_id}/relations", status_code=204,
             dependencies=[Depends(TOURISM_WRITERS)])  # fmt: skip
def create_relation(park_id: Id, body: RelationIn, session: SessionDep, actor: CurrentActor
                    ) -> None:  # fmt: skip
    """Tie a station or stop to a park by hand."""
    relations.add_relation(session=session, park_id=park_id, layer=body.layer,
                           feature_id=body.feature_id, actor=actor)  # fmt: skip


@router.delete("/parks/{park_id}/relations/{layer}/{feature_id}", status_code=204,
               dependencies=[Depends(TOURISM_WRITERS)])  # fmt: skip
def delete_relation(park_id: Id, layer: str, feature_id: Id, session: SessionDep,
                    actor: CurrentActor) -> None:  # fmt: skip
    """Untie a station or stop from a park (a computed tie stays hidden from then on)."""
    relations.remove_relation(session=session, park_id=park_id, layer=layer,
                              feature_id=feature_id, actor=actor)  # fmt: skip


@router.post("/parks/{park_id}/relations/compute", dependencies=[Depends(TOURISM_WRITERS)])
def compute_relations(park_id: Id, session: SessionDep, actor: CurrentActor,
                      settings: SettingsDep) -> dict[str, int]:  # fmt: skip
    """Compute a park's ties to stations and stops within walking distance again."""
    made = relations.recompute_relations(session=session, park_id=park_id, actor=actor,
                                         walk_m=settings.tourism.walk_m)  # fmt: skip
    return {"made": made}


@router.post("/flows", dependencies=[Depends(TOURISM_WRITERS)])
def create_flows(body: FlowBatchIn, session: SessionDep, actor: CurrentActor) -> dict[str, int]:
    """Store origin-destination rows whole or refuse them (a resent row replaces its volume)."""
    rows = [flows.Flow(f.origin_kind, f.origin, f.park_id,
                       storable_instant(f.at, f"flows[{i}].at", UTC), f.volume)
            for i, f in enumerate(body.flows)]  # fmt: skip
    return {"stored": flows.ingest_flows(session=session, flows=rows, actor=actor)}


@router.post("/station-exits", dependencies=[Depends(TOURISM_WRITERS)])
def create_station_exits(body: StationExitBatchIn, session: SessionDep, actor: CurrentActor
                         ) -> dict[str, int]:  # fmt: skip
    """Store rail stations' hourly exits whole or refuse them (a resent hour replaces its count)."""
    rows = [flows.StationExits(e.station_id, storable_instant(e.at, f"exits[{i}].at", UTC),
                               e.exits) for i, e in enumerate(body.exits)]  # fmt: skip
    return {"stored": flows.ingest_station_exits(session=session, exits=rows, actor=actor)}


@router.get("/flows", dependencies=[Depends(FEATURE_READERS)])
def list_flows(
    session: SessionDep, actor: CurrentActor, limit: LimitDep, settings: SettingsDep,
    since: AwareDatetime | None = None, until: AwareDatetime | None = None,
) -> ArcsPublic:  # fmt: skip
    """Return visitor flows into parks you may see as arcs (default: the last 3 hours)."""
    until = storable_instant(until, "until", UTC) if until else datetime.now(UTC)
    since = storable_instant(since, "since", UTC) if since else until - timedelta(hours=3)
    arcs = flows.read_flows(session=session, actor=actor, since=since, until=until, limit=limit,
                            dwell=timedelta(minutes=settings.tourism.dwell_min))  # fmt: skip
    features = [ArcPublic(
        geometry={"type": "LineString", "coordinates": [list(a.start), list(a.end)]},
        properties={"origin_kind": a.origin_kind, "origin": a.origin,
                    "origin_name": a.origin_name, "park_id": a.park_id,
                    "park_name": a.park_name, "volume": a.volume, "source": a.source},
    ) for a in arcs]  # fmt: skip
    return ArcsPublic(since=since, until=until, features=features)


@router.get("/parks/{park_id}/vehicles", dependencies=[Depends(FEATURE_READERS)])
def list_park_vehicles(park_id: Id, session: SessionDep, actor: CurrentActor
                       ) -> ParkVehiclesPublic:  # fmt: skip
    """Return the vehicles tied to a park at their last positions, last seen first."""
    found = vehicles.park_vehicles(session=session, park_id=park_id, actor=actor)
    data = [ParkVehiclePublic(
        vehicle_id=r.vehicle.id, name=r.vehicle.name, plate=r.vehicle.plate,
        kind=r.vehicle.kind, source=r.source, since=r.since,
        position_at=r.vehicle.position_at, lon=r.lon, lat=r.lat,
    ) for r in found]  # fmt: skip
    return ParkVehiclesPublic(park_id=park_id, data=data, count=len(data))


@router.post("/parks/{park_id}/vehicles", status_code=204,
             dependencies=[Depends(TOURISM_WRITERS)])  # fmt: skip
def create_park_vehicle(park_id: Id, body: VehicleIn, session: SessionDep, actor: CurrentActor
                        ) -> None:  # fmt: skip
    """Tie a vehicle (a tour bus) to a park by hand."""
    vehicles.register_vehicle(session=session, park_id=park_id, vehicle_id=body.vehicle_id,
                              actor=actor)  # fmt: skip


@router.delete("/parks/{park_id}/vehicles/{vehicle_id}", status_code=204,
               dependencies=[Depends(TOURISM_WRITERS)])  # fmt: skip
def delete_park_vehicle(park_id: Id, vehicle_id: Id, session: SessionDep, actor: CurrentActor
                        ) -> None:  # fmt: skip
    """Untie a vehicle from a park."""
    vehicles.unregister_vehicle(session=session, park_id=park_id, vehicle_id=vehicle_id,
                                actor=actor)  # fmt: skip


@router.post("/vehicles/infer", dependencies=[Depends(TOURISM_WRITERS)])
def infer_park_vehicles(
    session: SessionDep, actor: CurrentActor, settings: SettingsDep,
    hours: Annotated[float, Query(gt=0, le=24, description="tracks of the last hours")] = 3.0,
) -> dict[str, int]:  # fmt: skip
    """Tie to parks the tour buses and rental cars whose tracks dwell in them lately."""
    dwell = settings.tourism.dwell_min
    made = vehicles.infer_vehicles(session=session, actor=actor, now=datetime.now(UTC),
                                   window_h=hours, dwell_min=dwell)  # fmt: skip
    return {"made": made}


@router.get("/vehicles", dependencies=[Depends(FEATURE_READERS)])
def count_park_vehicles(session: SessionDep, actor: CurrentActor) -> dict[str, int]:
    """Return how many vehicles are tied to each park you may see (by park id)."""
    counts = vehicles.vehicles_per_park(session=session, actor=actor)
    return {str(park_id): n for park_id, n in counts.items()}
