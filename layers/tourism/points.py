"""A park's monitored points (点位): gates, counters, cameras and scenic spots.

A point belongs to one park and is seen by whoever may see the park; it must lie in the
park or within ``NEAR_M`` of its edge (a gate stands on the fence). Writes are audited.
"""

from __future__ import annotations

from dataclasses import dataclass

from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from layers.accounts.roles import Permission
from layers.accounts.scope import Actor
from layers.audit.service import audited_denials, record_audit
from layers.errors import Conflict, InvalidInput, NotFound, PreconditionRequired, VersionConflict
from layers.features.models import Park
from layers.tourism.models import POINT_KINDS, TourismPoint
from layers.tourism.parks import visible_park

NEAR_M = 300.0


@dataclass(frozen=True)
class PointIn:
    """A point as given: its park, code, name, kind, whether it counts, and where (WGS84)."""

    park_id: int
    code: str
    name: str
    kind: str
    lon: float
    lat: float
    counts: bool = True


@dataclass(frozen=True)
class PointRow:
    """A stored point with its place."""

    point: TourismPoint
    lon: float
    lat: float


def _snapshot(point: TourismPoint, lon: float, lat: float) -> dict[str, object]:
    return {"park_id": point.park_id, "code": point.code, "name": point.name,
            "kind": point.kind, "counts": point.counts, "lon": lon, "lat": lat,
            "version": point.version}  # fmt: skip


def create_point(*, session: Session, point_in: PointIn, actor: Actor) -> PointRow:
    """Create a point of a park the actor may see, near the park; audited."""
    with audited_denials(session, actor, "tourism_points.create", "tourism_points", None):
        actor.require(Permission.TOURISM_WRITE)
        park = visible_park(session, point_in.park_id, actor)
    if point_in.kind not in POINT_KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(POINT_KINDS)}")
    geom = from_shape(Point(point_in.lon, point_in.lat), srid=4326)
    place = func.ST_SetSRID(func.ST_MakePoint(point_in.lon, point_in.lat), 4326)
    near = session.scalar(select(func.ST_DWithin(
        func.Geography(Park.geom), func.Geography(place), NEAR_M,
    )).where(Park.id == park.id))  # fmt: skip
    if not near:
        raise InvalidInput(f"the point lies more than {NEAR_M:g} m from park {park.id} "
                           f"({park.name})")  # fmt: skip
    point = TourismPoint(park_id=park.id, code=point_in.code, name=point_in.name,
                         kind=point_in.kind, counts=point_in.counts, geom=geom)  # fmt: skip
    session.add(point)
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(f"a point with code {point_in.code!r} exists already") from exc
    after = _snapshot(point, point_in.lon, point_in.lat)
    record_audit(session, actor=actor, action="tourism_points.create",
                 target_type="tourism_points", target_id=point.id, after=after)  # fmt: skip
    return PointRow(point, point_in.lon, point_in.lat)


def list_points(*, session: Session, actor: Actor, park_id: int | None = None) -> list[PointRow]:
    """Return the points of the parks the actor may see (of one park if ``park_id``)."""
    actor.require(Permission.FEATURES_READ)
    query = (
        select(TourismPoint, func.ST_X(TourismPoint.geom), func.ST_Y(TourismPoint.geom))
        .join(Park, Park.id == TourismPoint.park_id).where(actor.scope.clause(Park))
        .order_by(TourismPoint.id)
    )  # fmt: skip
    if park_id is not None:
        query = query.where(TourismPoint.park_id == park_id)
    return [PointRow(p, lon, lat) for p, lon, lat in session.execute(query)]


def delete_point(
    *, session: Session, point_id: int, expected_version: int | None, actor: Actor
) -> None:
    """Delete a point if ``expected_version`` is current; its readings stay in the history."""
    with audited_denials(session, actor, "tourism_points.delete", "tourism_points", point_id):
        actor.require(Permission.TOURISM_WRITE)
        found = session.execute(
            select(TourismPoint, func.ST_X(TourismPoint.geom), func.ST_Y(TourismPoint.geom))
            .join(Park, Park.id == TourismPoint.park_id)
            .where(TourismPoint.id == point_id, actor.scope.clause(Park))
            .with_for_update(of=TourismPoint)
        ).one_or_none()  # fmt: skip
        if found is None:
            raise NotFound(f"no point {point_id} that you may see")
    point, lon, lat = found
    if expected_version is None:
        raise PreconditionRequired("writes need the version they replace (If-Match header)")
    if point.version != expected_version:
        raise VersionConflict(f"point {point_id} is at version {point.version}, not "
                              f"{expected_version}", current_version=point.version)  # fmt: skip
    before = _snapshot(point, lon, lat)
    session.delete(point)
    record_audit(session, actor=actor, action="tourism_points.delete",
                 target_type="tourism_points", target_id=point_id, before=before)  # fmt: skip
