"""Read and edit one feature; ETag is the version and writes need If-Match."""

from __future__ import annotations

from fastapi import APIRouter, Header, Response
from geoalchemy2.shape import to_shape
from shapely.geometry import mapping

from api.deps import CurrentActor, LayerDep, SessionDep, SettingsDep
from api.schemas.features import FeaturePatch, FeaturePublic
from layers.base import Feature
from layers.errors import InvalidInput
from layers.features.registry import LayerSpec
from layers.features.service import feature_properties, get_feature, update_feature

router = APIRouter(prefix="/api/layers/{layer}/features", tags=["features"])


def to_public(spec: LayerSpec, feature: Feature) -> FeaturePublic:
    """Return the GeoJSON Feature of a stored feature."""
    properties = feature_properties(spec, feature)
    properties.update(
        external_id=feature.external_id, version=feature.version,
        precinct_id=feature.precinct_id, district_id=feature.district_id,
        updated_at=feature.updated_at.isoformat(),
    )  # fmt: skip
    geometry = mapping(to_shape(feature.geom))  # type: ignore[attr-defined]
    return FeaturePublic(id=feature.id, geometry=dict(geometry), properties=properties)


def parse_if_match(value: str | None) -> int | None:
    """Return the version named by an If-Match header, or raise on a malformed one."""
    if value is None:
        return None
    tag = value.strip().removeprefix("W/").strip('"')
    if not tag.isdigit():
        raise InvalidInput(f"If-Match must be a version ETag such as '\"3\"', got {value!r}")
    return int(tag)


@router.get("/{feature_id}")
def read_feature(
    spec: LayerDep, feature_id: int, session: SessionDep, actor: CurrentActor, response: Response
) -> FeaturePublic:
    """Return one feature as GeoJSON with its version as ETag."""
    feature = get_feature(session=session, spec=spec, feature_id=feature_id, actor=actor)
    response.headers["ETag"] = f'"{feature.version}"'
    return to_public(spec, feature)


@router.patch("/{feature_id}")
def update_feature_route(
    spec: LayerDep, feature_id: int, body: FeaturePatch, session: SessionDep,
    actor: CurrentActor, settings: SettingsDep, response: Response,
    if_match: str | None = Header(default=None),
) -> FeaturePublic:  # fmt: skip
    """Change properties and/or geometry of a feature at the version given in If-Match."""
    feature = update_feature(
        session=session, spec=spec, feature_id=feature_id,
        expected_version=parse_if_match(if_match), actor=actor,
        geometry=body.geometry.to_shape() if body.geometry else None,
        properties=body.properties, max_vertices=settings.features.max_vertices,
    )  # fmt: skip
    response.headers["ETag"] = f'"{feature.version}"'
    return to_public(spec, feature)
