"""Security perimeters: create, read, replace (a new version), delete, and their versions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Response
from geoalchemy2.shape import to_shape
from shapely.geometry import mapping
from sqlalchemy.orm import Session

from api.access import requires
from api.deps import CurrentActor, LimitDep, SessionDep, SettingsDep, if_match_version
from api.schemas.perimeters import (
    PerimeterIn,
    PerimeterPublic,
    PerimetersPublic,
    RingPublic,
    VersionPublic,
    VersionsPublic,
)
from api.schemas.values import Instant
from layers.accounts.roles import Permission
from layers.perimeters import service
from layers.perimeters.models import Perimeter
from layers.perimeters.rings import RING_TITLES, RingKind, RingLimits
from layers.settings import Settings

PERIMETER_READERS = requires(Permission.PERIMETERS_READ)
PERIMETER_WRITERS = requires(Permission.PERIMETERS_WRITE)
router = APIRouter(prefix="/api/perimeters", tags=["perimeters"])
IfMatch = Annotated[str | None, Header(max_length=40)]
PerimeterId = Annotated[int, Path(ge=1, le=2**63 - 1, description="id of the perimeter")]
VersionNo = Annotated[int, Path(ge=1, le=2**31 - 1, description="a version of it")]


def ring_limits(settings: Settings) -> RingLimits:
    """Return how large a ring may be, from the settings."""
    own = settings.perimeters
    return RingLimits(own.max_ring_vertices, own.max_ring_area_km2, own.max_buffer_m)


def to_public(
    session: Session, perimeter: Perimeter, response: Response | None = None
) -> PerimeterPublic:
    """Return a perimeter with its rings (and set its ETag on ``response``)."""
    if response is not None:
        response.headers["ETag"] = f'"{perimeter.version}"'
    rings = [
        RingPublic(kind=RingKind(r.kind), title=RING_TITLES[RingKind(r.kind)], drawn=r.drawn,
                   area_m2=r.area_m2, geometry=mapping(to_shape(r.geom)))
        for r in service.rings_of(session, perimeter.id)
    ]  # fmt: skip
    return PerimeterPublic(
        id=perimeter.id, name=perimeter.name, activity_id=perimeter.activity_id,
        starts_at=perimeter.starts_at, ends_at=perimeter.ends_at, version=perimeter.version,
        created_at=perimeter.created_at, updated_at=perimeter.updated_at, rings=rings,
    )  # fmt: skip


@router.post("", dependencies=[Depends(PERIMETER_WRITERS)], status_code=201)
def create_perimeter(
    body: PerimeterIn, session: SessionDep, actor: CurrentActor, settings: SettingsDep,
    response: Response,
) -> PerimeterPublic:  # fmt: skip
    """Create a perimeter with its rings (planners and commanders)."""
    perimeter = service.create_perimeter(session=session, draft=body.to_domain(), actor=actor,
                                         limits=ring_limits(settings))  # fmt: skip
    session.refresh(perimeter)
    response.headers["Location"] = f"{router.prefix}/{perimeter.id}"
    return to_public(session, perimeter, response)


@router.get("", dependencies=[Depends(PERIMETER_READERS)])
def list_perimeters(
    session: SessionDep, actor: CurrentActor, limit: LimitDep, at: Instant | None = None
) -> PerimetersPublic:
    """Return the perimeters reaching into your jurisdiction (in force ``at``), newest first."""
    found = service.list_perimeters(session=session, actor=actor, at=at, limit=limit)
    return PerimetersPublic(data=[to_public(session, p) for p in found], count=len(found))


@router.get("/{perimeter_id}", dependencies=[Depends(PERIMETER_READERS)])
def read_perimeter(
    perimeter_id: PerimeterId, session: SessionDep, actor: CurrentActor, response: Response
) -> PerimeterPublic:
    """Return a perimeter with its rings; ``ETag`` is its version."""
    perimeter = service.read_perimeter(session=session, perimeter_id=perimeter_id, actor=actor)
    return to_public(session, perimeter, response)


@router.put("/{perimeter_id}", dependencies=[Depends(PERIMETER_WRITERS)])
def update_perimeter(
    perimeter_id: PerimeterId, body: PerimeterIn, session: SessionDep, actor: CurrentActor,
    settings: SettingsDep, response: Response, if_match: IfMatch = None,
) -> PerimeterPublic:  # fmt: skip
    """Replace a perimeter at the version in ``If-Match``; the old version is kept."""
    perimeter = service.replace_perimeter(
        session=session, perimeter_id=perimeter_id, draft=body.to_domain(),
        expected_version=if_match_version(if_match), actor=actor, limits=ring_limits(settings),
    )  # fmt: skip
    session.refresh(perimeter)
    return to_public(session, perimeter, response)


@router.delete("/{perimeter_id}", dependencies=[Depends(PERIMETER_WRITERS)], status_code=204)
def delete_perimeter(
    perimeter_id: PerimeterId, session: SessionDep, actor: CurrentActor, if_match: IfMatch = None
) -> Response:
    """Delete a perimeter at the version in ``If-Match`` (the audit log keeps its content)."""
    service.delete_perimeter(session=session, perimeter_id=perimeter_id,
                             expected_version=if_match_version(if_match), actor=actor)  # fmt: skip
    return Response(status_code=204)


@router.get("/{perimeter_id}/versions", dependencies=[Depends(PERIMETER_READERS)])
def list_perimeter_versions(
    perimeter_id: PerimeterId, session: SessionDep, actor: CurrentActor
) -> VersionsPublic:
    """Return every kept version of a perimeter, oldest first."""
    kept = service.list_versions(session=session, perimeter_id=perimeter_id, actor=actor)
    data = [VersionPublic(version=v.version, saved_at=v.saved_at, saved_by=v.saved_by_name)
            for v in kept]  # fmt: skip
    return VersionsPublic(data=data, count=len(data))


@router.get("/{perimeter_id}/versions/{version}", dependencies=[Depends(PERIMETER_READERS)])
def read_perimeter_version(
    perimeter_id: PerimeterId, version: VersionNo, session: SessionDep, actor: CurrentActor
) -> VersionPublic:
    """Return a perimeter as it was at ``version``: name, window, rings as drawn and shaped."""
    kept = service.read_version(session=session, perimeter_id=perimeter_id, version=version,
                                actor=actor)  # fmt: skip
    return VersionPublic(version=kept.version, saved_at=kept.saved_at,
                         saved_by=kept.saved_by_name, content=kept.content)  # fmt: skip
