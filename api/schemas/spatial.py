"""Request bodies of spatial questions and feature writes."""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field, model_validator
from shapely.geometry import LineString, Point
from shapely.geometry.base import BaseGeometry

from api.schemas.features import GeoJSONGeometry
from geo.crs import CoordSystem, transform_geometry
from layers.features.spatial import Relation

Coordinate = tuple[float, float]
GeomT = TypeVar("GeomT", bound=BaseGeometry)


def to_wgs84(geom: GeomT, crs: CoordSystem) -> GeomT:
    """Return client geometry given in ``crs`` as stored WGS84."""
    return geom if crs is CoordSystem.WGS84 else transform_geometry(geom, crs, CoordSystem.WGS84)


class FeatureCreate(BaseModel):
    """A new feature (POST) or a whole replacement (PUT): geometry and properties."""

    type: Literal["Feature"] | None = None
    geometry: GeoJSONGeometry
    properties: dict[str, Any] = Field(default_factory=dict)
    external_id: str | None = Field(default=None, max_length=128)


class SpatialQuery(BaseModel):
    """What is in a region: a GeoJSON geometry, a point and radius, or a line and buffer.

    Around a point or line the answer is nearest first, each feature with ``distance_m``.
    """

    geometry: GeoJSONGeometry | None = None
    point: Coordinate | None = None
    radius_m: float | None = Field(default=None, gt=0)
    line: list[Coordinate] | None = Field(default=None, min_length=2, max_length=10_000)
    buffer_m: float | None = Field(default=None, gt=0)
    layers: list[str] = Field(min_length=1, max_length=20)
    relation: Relation = Relation.INTERSECTS
    filters: dict[str, dict[str, str]] = Field(
        default_factory=dict, description='Per layer: {"units": {"risk_level": "3..4"}}.'
    )
    limit: int = Field(
        default=100, ge=0, le=10_000,
        description="Features per layer: nearest first (geodesic distance, then id) around a "
        "point or line, by id in a geometry; 0 returns the counts alone.",
    )  # fmt: skip

    @model_validator(mode="after")
    def _one_region(self) -> SpatialQuery:
        given = [self.geometry is not None, self.point is not None, self.line is not None]
        if sum(given) != 1:
            raise ValueError("give exactly one of geometry, point (+radius_m), line (+buffer_m)")
        if (self.point is None) != (self.radius_m is None):
            raise ValueError("point and radius_m go together")
        if (self.line is None) != (self.buffer_m is None):
            raise ValueError("line and buffer_m go together")
        unknown = set(self.filters) - set(self.layers)
        if unknown:
            raise ValueError(f"filters name layers not asked for: {', '.join(sorted(unknown))}")
        return self

    def shape(self) -> tuple[BaseGeometry, float | None]:
        """Return the region's geometry (as given) and its distance in metres, if any."""
        if self.point is not None:
            return Point(self.point), self.radius_m
        if self.line is not None:
            return LineString(self.line), self.buffer_m
        assert self.geometry is not None
        return self.geometry.to_shape(), None
