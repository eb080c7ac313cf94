"""Read, create, replace, edit and delete one feature; ETag is the version, writes need If-Match."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.responses import JSONResponse
from geoalchemy2.shape import to_shape
from shapely.geometry import mapping

from api.access import FEATURE_READERS, FEATURE_WRITERS, requires
from api.deps import (
    CrsDep,
    CurrentActor,
    LayerDep,
    RevealDep,
    SessionDep,
    SettingsDep,
    if_match_version,
)
from api.links import public_href
from api.routes.records import waiting
from api.schemas.features import FeaturePatch, FeaturePublic
from api.schemas.spatial import FeatureCreate, to_wgs84
from geo.crs import CoordSystem, transform_geometry
from layers.accounts.roles import Permission, Role
from layers.base import Feature
from layers.features.personal import reveal_personal
from layers.features.registry import LayerSpec
from layers.features.service import (
    create_feature,
    delete_feature,
    feature_properties,
    get_feature,
    update_feature,
)
from layers.records.approvals import request_feature_update

# A unit user edits its own unit but does not delete it (its officer does).
FEATURE_DELETERS = requires(
    Permission.FEATURES_WRITE, roles=set(Role) - {Role.UNIT}, name="delete features"
)
router = APIRouter(prefix="/api/layers/{layer}/features", tags=["features"])


def to_public(
    spec: LayerSpec, feature: Feature, crs: CoordSystem = CoordSystem.WGS84
) -> FeaturePublic:
    """Return the GeoJSON Feature of a stored feature, its geometry in ``crs``."""
    properties = feature_properties(spec, feature)
    properties.update(
        external_id=feature.external_id, version=feature.version,
        precinct_id=feature.precinct_id, district_id=feature.district_id,
        updated_at=feature.updated_at.isoformat(),
    )  # fmt: skip
    shape = to_shape(feature.geom)  # type: ignore[attr-defined]
    if crs is not CoordSystem.WGS84:
        shape = transform_geometry(shape, CoordSystem.WGS84, crs)
    return FeaturePublic(id=feature.id, geometry=dict(mapping(shape)), properties=properties)


def reset_values(spec: LayerSpec) -> dict[str, Any]:
    """Return what each attribute becomes when a PUT omits it: its column default, else None."""
    columns = spec.model.__table__.columns  # type: ignore[attr-defined]
    values: dict[str, Any] = {}
    for attribute in spec.attributes:
        default = columns[attribute.name].default
        arg = getattr(default, "arg", None)
        values[attribute.name] = None if arg is None or callable(arg) else arg
    return values


def _tagged(response: Response, feature: Feature) -> None:
    response.headers["ETag"] = f'"{feature.version}"'


@router.get("/{feature_id}", dependencies=[Depends(FEATURE_READERS)])
def read_feature(
    spec: LayerDep, feature_id: int, session: SessionDep, actor: CurrentActor, response: Response,
    crs: CrsDep, reveal: RevealDep = False,
) -> FeaturePublic:  # fmt: skip
    """Return one feature as GeoJSON with its version as ETag (personal values masked).

    ``reveal=true`` shows personal values in full to a role allowed to read them, and
    audits that read.
    """
    feature = get_feature(session=session, spec=spec, feature_id=feature_id, actor=actor)
    _tagged(response, feature)
    public = to_public(spec, feature, crs)
    if reveal:
        public.properties.update(
            reveal_personal(session=session, spec=spec, feature=feature, actor=actor)
        )
    return public


@router.post("", dependencies=[Depends(FEATURE_WRITERS)], status_code=201)
def create_feature_route(
    spec: LayerDep, body: FeatureCreate, session: SessionDep, actor: CurrentActor,
    settings: SettingsDep, request: Request, response: Response, crs: CrsDep,
) -> FeaturePublic:  # fmt: skip
    """Create a feature (coordinates in ``crs``, stored in WGS84); 201 with Location and ETag."""
    feature = create_feature(
        session=session, spec=spec, geometry=to_wgs84(body.geometry.to_shape(), crs),
        properties=body.properties, actor=actor, external_id=body.external_id,
        max_vertices=settings.features.max_vertices,
    )  # fmt: skip
    _tagged(response, feature)
    response.headers["Location"] = public_href(
        request, request.url_for("read_feature", layer=spec.id, feature_id=str(feature.id))
    )
    return to_public(spec, feature, crs)


@router.put("/{feature_id}", dependencies=[Depends(FEATURE_WRITERS)])
def replace_feature_route(
    spec: LayerDep, feature_id: int, body: FeatureCreate, session: SessionDep,
    actor: CurrentActor, settings: SettingsDep, response: Response, crs: CrsDep,
    if_match: str | None = Header(default=None),
) -> FeaturePublic:  # fmt: skip
    """Replace geometry and every property (absent ones reset) at the If-Match version."""
    feature = update_feature(
        session=session, spec=spec, feature_id=feature_id,
        expected_version=if_match_version(if_match), actor=actor,
        geometry=to_wgs84(body.geometry.to_shape(), crs),
        properties={**reset_values(spec), **body.properties},
        max_vertices=settings.features.max_vertices,
    )  # fmt: skip
    _tagged(response, feature)
    return to_public(spec, feature, crs)


@router.patch(
    "/{feature_id}",
    dependencies=[Depends(FEATURE_WRITERS)],
    response_model=FeaturePublic,
    responses={202: {"description": "a unit user's edit, waiting for approval"}},
)
def update_feature_route(
    spec: LayerDep, feature_id: int, body: FeaturePatch, session: SessionDep,
    actor: CurrentActor, settings: SettingsDep, response: Response, crs: CrsDep,
    if_match: str | None = Header(default=None),
) -> FeaturePublic | JSONResponse:  # fmt: skip
    """Change properties and/or geometry of a feature at the version given in If-Match.

    A unit user's edit of its own unit is not applied: it waits as an approval (202)
    until an officer of its precinct approves it.
    """
    if actor.role is Role.UNIT:
        geometry = to_wgs84(body.geometry.to_shape(), crs) if body.geometry else None
        approval = request_feature_update(
            session=session, layer=spec.id, feature_id=feature_id,
            expected_version=if_match_version(if_match), actor=actor,
            properties=body.properties, geometry=dict(mapping(geometry)) if geometry else None,
            max_vertices=settings.features.max_vertices,
        )  # fmt: skip
        return waiting(session, approval, actor)
    feature = update_feature(
        session=session, spec=spec, feature_id=feature_id,
        expected_version=if_match_version(if_match), actor=actor,
        geometry=to_wgs84(body.geometry.to_shape(), crs) if body.geometry else None,
        properties=body.properties, max_vertices=settings.features.max_vertices,
    )  # fmt: skip
    _tagged(response, feature)
    return to_public(spec, feature, crs)


@router.delete("/{feature_id}", dependencies=[Depends(FEATURE_DELETERS)], status_code=204)
def delete_feature_route(
    spec: LayerDep, feature_id: int, session: SessionDep, actor: CurrentActor,
    if_match: str | None = Header(default=None),
) -> Response:  # fmt: skip
    """Delete a feature at the version given in If-Match."""
    delete_feature(session=session, spec=spec, feature_id=feature_id,
                   expected_version=if_match_version(if_match), actor=actor)  # fmt: skip
    return Response(status_code=204)
