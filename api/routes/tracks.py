"""Vehicle tracks: GPS feeds post batches of positions; a vehicle's track as lines."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from pydantic import AwareDatetime
from shapely.geometry import LineString, MultiLineString, mapping

from api.access import FEATURE_READERS, requires
from api.deps import CrsDep, CurrentActor, SessionDep, SettingsDep
from api.schemas.tracks import IngestPublic, TrackBatchIn, TrackProperties, TrackPublic
from geo.crs import CoordSystem, transform_geometry
from layers.accounts.roles import Permission
from layers.tracks import lines
from layers.tracks.service import ingest_positions
from layers.values import storable_instant

TRACK_WRITERS = requires(Permission.TRACKS_WRITE)
router = APIRouter(prefix="/api", tags=["tracks"])
VehicleId = Annotated[int, Path(ge=1, le=2**63 - 1, description="id of the vehicle feature")]


@router.post("/tracks", dependencies=[Depends(TRACK_WRITERS)])
def create_positions(
    body: TrackBatchIn, session: SessionDep, actor: CurrentActor, settings: SettingsDep
) -> IngestPublic:
    """Store a feed's batch of positions whole or refuse it; move vehicles; raise alerts."""
    report = ingest_positions(session=session, positions=body.to_domain(), actor=actor,
                              tracks=settings.tracks, geofence=settings.geofence)  # fmt: skip
    return IngestPublic(received=report.received, stored=report.stored,
                        vehicles=report.vehicles, moved=report.moved,
                        alert_ids=report.alert_ids)  # fmt: skip


def _geometry(track: lines.TrackLine, crs: CoordSystem) -> dict[str, Any] | None:
    if not track.parts:
        return None
    shape = LineString(track.parts[0]) if len(track.parts) == 1 else MultiLineString(track.parts)
    if crs is not CoordSystem.WGS84:
        shape = transform_geometry(shape, CoordSystem.WGS84, crs)
    return dict(mapping(shape))


@router.get("/vehicles/{vehicle_id}/track", dependencies=[Depends(FEATURE_READERS)])
def read_track(
    vehicle_id: VehicleId, session: SessionDep, actor: CurrentActor, settings: SettingsDep,
    crs: CrsDep, since: AwareDatetime | None = None, until: AwareDatetime | None = None,
) -> TrackPublic:  # fmt: skip
    """Return a vehicle's track from ``since`` to ``until`` (default: the last hour) as lines."""
    track = lines.read_track(
        session=session, vehicle_id=vehicle_id, actor=actor, limits=settings.tracks,
        since=since and storable_instant(since, "since"),
        until=until and storable_instant(until, "until"),
    )  # fmt: skip
    vehicle = track.vehicle
    times = track.times[0] if len(track.times) == 1 else track.times
    return TrackPublic(id=vehicle.id, geometry=_geometry(track, crs), properties=TrackProperties(
        vehicle_id=vehicle.id, name=vehicle.name, plate=vehicle.plate, since=track.since,
        until=track.until, positions=track.positions, thinned=track.thinned, times=times,
    ))  # fmt: skip
