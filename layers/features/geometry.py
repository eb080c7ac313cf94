"""Turn client geometry into what a layer stores: valid, in China, the right type, indexed."""

from __future__ import annotations

from dataclasses import dataclass

from shapely import Geometry
from shapely.geometry import MultiPolygon, Polygon

from geo import hexes, validate
from layers.errors import InvalidInput
from layers.features.registry import LayerSpec


@dataclass(frozen=True)
class PreparedGeometry:
    """A stored-ready geometry with its H3 centre cell and, for areas, its cover."""

    geometry: Geometry
    h3_cell: int
    h3_cover: list[int] | None


def prepare_geometry(spec: LayerSpec, geometry: Geometry, *, max_vertices: int) -> PreparedGeometry:
    """Validate (repairing polygons), type-check and index ``geometry`` for ``spec``."""
    try:
        if spec.geometry_type == "MultiPolygon":
            if not isinstance(geometry, Polygon | MultiPolygon):
                raise validate.GeometryError(
                    f"layer {spec.id!r} stores polygons, got {geometry.geom_type}"
                )
            geometry = validate.ensure_multipolygon(validate.repair_geometry(geometry))
        elif geometry.geom_type != spec.geometry_type:
            raise validate.GeometryError(
                f"layer {spec.id!r} stores {spec.geometry_type} geometries, "
                f"got {geometry.geom_type}"
            )
        validate.validate_geometry(geometry, max_vertices=max_vertices)
    except validate.GeometryError as exc:
        raise InvalidInput(f"invalid geometry: {exc}") from exc
    point = geometry.representative_point()
    cell = hexes.cell_of_point(point.x, point.y)
    cover = hexes.cover_polygon(geometry) if spec.geometry_type == "MultiPolygon" else None
    return PreparedGeometry(geometry, cell, cover)
