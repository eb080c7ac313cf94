"""Turn client geometry into what a layer stores: valid, in China, the right type, indexed."""

from __future__ import annotations

from dataclasses import dataclass

from shapely.geometry import LineString, MultiLineString
from shapely.geometry.base import BaseGeometry

from geo import hexes, validate
from layers.errors import InvalidInput
from layers.features.registry import LayerSpec

ACCEPTED_TYPES = {
    "Point": {"Point"},
    "MultiLineString": {"LineString", "MultiLineString"},
    "MultiPolygon": {"Polygon", "MultiPolygon"},
}


def ensure_multilinestring(geometry: BaseGeometry) -> MultiLineString:
    """Return a LineString as a one-part MultiLineString; a MultiLineString unchanged."""
    if isinstance(geometry, MultiLineString):
        return geometry
    if isinstance(geometry, LineString):
        return MultiLineString([geometry])
    raise InvalidInput(f"invalid geometry: expected a line, got {geometry.geom_type}")


@dataclass(frozen=True)
class PreparedGeometry:
    """A stored-ready geometry with its H3 centre cell (and coarser) and, for areas, cover."""

    geometry: BaseGeometry
    h3_cell: int
    h3_coarse: list[int]
    h3_cover: list[int] | None


def prepare_geometry(
    spec: LayerSpec, geometry: BaseGeometry, *, max_vertices: int
) -> PreparedGeometry:
    """Validate (repairing polygons), type-check and index ``geometry`` for ``spec``."""
    if geometry.geom_type not in ACCEPTED_TYPES[spec.geometry_type]:
        raise InvalidInput(
            f"invalid geometry: layer {spec.id!r} stores {spec.geometry_type} geometries, "
            f"got {geometry.geom_type}"
        )
    try:
        if spec.geometry_type == "MultiPolygon":
            geometry = validate.ensure_multipolygon(validate.repair_geometry(geometry))
        elif spec.geometry_type == "MultiLineString":
            geometry = ensure_multilinestring(geometry)
        geometry = validate.validate_geometry(geometry, max_vertices=max_vertices)
    except validate.GeometryError as exc:
        raise InvalidInput(f"invalid geometry: {exc}") from exc
    point = geometry.representative_point()
    cell = hexes.cell_of_point(point.x, point.y)
    coarse = hexes.coarser_cells([point.x], [point.y], [cell])[0].tolist()
    cover = hexes.cover_polygon(geometry) if spec.geometry_type == "MultiPolygon" else None
    return PreparedGeometry(geometry, cell, coarse, cover)
