"""GeoJSON schemas of features and the layer registry."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator
from shapely.errors import GEOSException
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from layers.errors import InvalidInput

# How deep positions are nested in each geometry type's coordinates.
POSITION_DEPTH = {
    "Point": 0, "MultiPoint": 1, "LineString": 1,
    "MultiLineString": 2, "Polygon": 2, "MultiPolygon": 3,
}  # fmt: skip


def _check_positions(value: Any, depth: int, path: str) -> None:
    """Raise ``ValueError`` naming the first place where ``value`` is not positions."""
    if depth == 0:
        numbers = isinstance(value, list) and all(
            isinstance(n, int | float) and not isinstance(n, bool) for n in value
        )
        if not numbers or len(value) not in (2, 3):
            raise ValueError(f"{path} must be a position [lon, lat], got {value!r:.60}")
        return
    if not isinstance(value, list):
        raise ValueError(f"{path} must be a list, got {value!r:.60}")
    for i, item in enumerate(value):
        _check_positions(item, depth - 1, f"{path}[{i}]")


class GeoJSONGeometry(BaseModel):
    """An RFC 7946 geometry object whose coordinates nest as its type requires."""

    type: Literal["Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"]
    coordinates: list[Any]

    @model_validator(mode="after")
    def _positions(self) -> GeoJSONGeometry:
        _check_positions(self.coordinates, POSITION_DEPTH[self.type], "coordinates")
        return self

    def to_shape(self) -> BaseGeometry:
        """Return the shapely geometry, or raise ``InvalidInput`` saying what is malformed."""
        try:
            geometry = shape(self.model_dump())
        except (ValueError, TypeError, IndexError, AttributeError, GEOSException) as exc:
            raise InvalidInput(f"malformed {self.type} coordinates: {exc}") from exc
        if geometry.is_empty:
            raise InvalidInput(f"empty {self.type} geometry")
        return geometry


class FeaturePublic(BaseModel):
    """A GeoJSON Feature as returned by the API."""

    type: Literal["Feature"] = "Feature"
    id: int
    geometry: dict[str, Any]
    properties: dict[str, Any]


class FeaturePatch(BaseModel):
    """A partial update: any properties to change and/or a new geometry."""

    type: Literal["Feature"] | None = None
    properties: dict[str, Any] = Field(default_factory=dict)
    geometry: GeoJSONGeometry | None = None


class AttributePublic(BaseModel):
    """One attribute of a layer."""

    name: str
    type: str
    title: str
    required: bool
    choices: list[str] | None = None


class LayerPublic(BaseModel):
    """A layer of the registry with its size and extent."""

    id: str
    title: str
    geometry_type: str
    attributes: list[AttributePublic]
    count: int = Field(description="Feature count; estimated from statistics for big layers.")
    count_is_estimate: bool
    extent: list[float] | None = Field(description="[minx, miny, maxx, maxy] in WGS84.")


class LayersPublic(BaseModel):
    """The layer registry."""

    data: list[LayerPublic]
    count: int
