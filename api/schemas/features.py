"""GeoJSON schemas of features and the layer registry."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from layers.errors import InvalidInput


class GeoJSONGeometry(BaseModel):
    """An RFC 7946 geometry object (coordinates checked when converted)."""

    type: Literal["Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"]
    coordinates: list[Any]

    def to_shape(self) -> BaseGeometry:
        """Return the shapely geometry, or raise ``InvalidInput`` saying what is malformed."""
        try:
            geometry = shape(self.model_dump())
        except (ValueError, TypeError, IndexError, AttributeError) as exc:
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
