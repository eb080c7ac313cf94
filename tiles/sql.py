"""One-clause builders of the tile SQL: envelope, selection, attributes, one MVT layer.

The builders take a ``TileFrame``: the tile's bounds as named bind parameters, so one
compiled statement serves every tile of a zoom and ``TileGeometry.params`` fills it in.
Every layer is selected on its indexed WGS84 ``geom`` with the envelope transformed
once (a Mercator rectangle is exactly a lon/lat rectangle); point layers then encode
their stored ``geom_3857``, polygon layers transform only the selected rows.
Rows are selected with the envelope grown by the clip buffer and clipped to the exact
tile by ``ST_AsMVTGeom``. No ``ORDER BY`` precedes the ``LIMIT``: it would sort every
matching row of a dense tile. Every feature carries its open hazards (``feature_risks``,
absent when none), every cluster their sum and highest level, for the map to colour by;
every unit its training (``unit_training``: courses assigned, passed, the next deadline of
one not passed, absent when nothing is assigned).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    LargeBinary,
    Select,
    String,
    and_,
    bindparam,
    cast,
    func,
    select,
)

from geo.tiling import ORIGIN_SHIFT_M, tile_bounds_3857
from layers.features.registry import AttrType, LayerSpec
from layers.records.hazards import FeatureRisk
from layers.training.models import UnitTraining

BBox = tuple[float, float, float, float]
_CORNERS = ("minx", "miny", "maxx", "maxy")


@dataclass(frozen=True)
class TileGeometry:
    """A tile's exact Mercator bounds, its buffered bounds and the MVT grid."""

    bounds: BBox
    margin_bounds: BBox
    extent: int
    buffer: int

    @classmethod
    def of(cls, z: int, x: int, y: int, *, extent: int, buffer: int) -> TileGeometry:
        """Return the geometry of tile ``z/x/y`` for an MVT grid of ``extent`` units."""
        minx, miny, maxx, maxy = tile_bounds_3857(z, x, y)
        margin = (maxx - minx) * buffer / extent
        # Not past the world's edge: beyond 180° east the box would come back in 4326 as
        # -180° and select nothing of the east (tiles 1/1/0, 2/3/1... were empty).
        world = ORIGIN_SHIFT_M
        grown = (max(minx - margin, -world), max(miny - margin, -world),
                 min(maxx + margin, world), min(maxy + margin, world))  # fmt: skip
        return cls((minx, miny, maxx, maxy), grown, extent, buffer)

    def params(self) -> dict[str, float]:
        """Return the values of the bind parameters of a ``TileFrame``."""
        return {
            **{f"tile_{name}": value for name, value in zip(_CORNERS, self.bounds, strict=True)},
            **{f"margin_{name}": v for name, v in zip(_CORNERS, self.margin_bounds, strict=True)},
        }


@dataclass(frozen=True)
class TileFrame:
    """A tile's exact and buffered bounds as bind parameters, and the MVT grid."""

    bounds: tuple[ColumnElement[float], ...]
    margin_bounds: tuple[ColumnElement[float], ...]
    extent: int
    buffer: int

    @classmethod
    def of(cls, *, extent: int, buffer: int) -> TileFrame:
        """Return the frame filled in by ``TileGeometry.params``."""

        def corners(prefix: str) -> tuple[ColumnElement[float], ...]:
            return tuple(bindparam(f"{prefix}_{name}", type_=Float) for name in _CORNERS)

        return cls(corners("tile"), corners("margin"), extent, buffer)


def envelope(bounds: Sequence[Any]) -> ColumnElement[Any]:
    """Return a Mercator rectangle as a PostGIS geometry (SRID 3857)."""
    return func.ST_MakeEnvelope(*bounds, 3857)


def is_point_layer(spec: LayerSpec) -> bool:
    """Return whether ``spec`` keeps a stored Mercator copy of its point geometry."""
    return spec.geometry_type == "Point"


def mercator_geometry(spec: LayerSpec) -> ColumnElement[Any]:
    """Return the layer's geometry in EPSG:3857."""
    model: Any = spec.model
    if is_point_layer(spec):
        return model.geom_3857
    return func.ST_Transform(model.geom, 3857)


def in_bounds(spec: LayerSpec, bounds: Sequence[Any]) -> ColumnElement[bool]:
    """Return the index-assisted condition "the geometry's box meets ``bounds``"."""
    model: Any = spec.model
    return model.geom.op("&&")(func.ST_Transform(envelope(bounds), 4326))


def tile_attributes(spec: LayerSpec) -> list[ColumnElement[Any]]:
    """Return the attributes the registry marks for tiles, as MVT-encodable columns."""
    columns: list[ColumnElement[Any]] = []
    for attribute in spec.attributes:
        if not attribute.tile:
            continue
        column = getattr(spec.model, attribute.name)
        if attribute.type is AttrType.STRING_LIST:
            column = func.array_to_string(column, ",")
        columns.append(column.label(attribute.name))
    return columns


def with_risks(rows: Select[Any], spec: LayerSpec) -> Select[Any]:
    """Return ``rows`` of ``spec`` joined to their open hazards (NULL where there are none)."""
    model: Any = spec.model
    joined = and_(FeatureRisk.layer == spec.id, FeatureRisk.feature_id == model.id)
    return rows.select_from(model).outerjoin(FeatureRisk, joined)


def risk_columns() -> list[ColumnElement[Any]]:
    """Return a feature's open hazards and their highest level (NULL, so not encoded, if none)."""
    return [
        FeatureRisk.open_hazards.label("open_hazards"),
        FeatureRisk.hazard_level.label("hazard_level"),
    ]


def risk_summary() -> list[ColumnElement[Any]]:
    """Return what a cluster says of its members' hazards: how many open, the highest level."""
    return [
        cast(func.sum(FeatureRisk.open_hazards), Integer).label("open_hazards"),
        func.max(FeatureRisk.hazard_level).label("max_hazard_level"),
    ]


def training_columns() -> list[ColumnElement[Any]]:
    """Return a unit's training: courses assigned, passed, next deadline (NULL, so not encoded)."""
    return [
        UnitTraining.assigned.label("training_assigned"),
        UnitTraining.passed.label("training_passed"),
        cast(UnitTraining.due, String).label("training_due"),
    ]


def with_training(rows: Select[Any], spec: LayerSpec) -> Select[Any]:
    """Return unit ``rows`` joined to their training compliance; other layers' as they are."""
    if spec.id != "units":
        return rows
    model: Any = spec.model
    columns = rows.add_columns(*training_columns())
    return columns.outerjoin(UnitTraining, UnitTraining.unit_id == model.id)


def as_mvt_geometry(geometry: ColumnElement[Any], tile: TileFrame) -> ColumnElement[Any]:
    """Return ``geometry`` clipped to the tile plus buffer, in tile grid coordinates."""
    return func.ST_AsMVTGeom(geometry, envelope(tile.bounds), tile.extent, tile.buffer, True)


def mvt_layer(rows: Select[Any], name: str, tile: TileFrame, id_column: str | None) -> Select[Any]:
    """Return the query encoding ``rows`` (with a ``geom`` column) as one MVT layer."""
    sub = rows.subquery("features")
    args: list[Any] = [sub.table_valued(), name, tile.extent, "geom"]
    if id_column:
        args.append(id_column)
    return select(func.ST_AsMVT(*args, type_=LargeBinary)).select_from(sub)


def raw_rows(
    spec: LayerSpec, tile: TileFrame, where: list[ColumnElement[bool]], limit: int
) -> Select[Any]:
    """Return the features of ``spec`` in the buffered tile, with their tile attributes."""
    model: Any = spec.model
    rows = select(
        as_mvt_geometry(mercator_geometry(spec), tile).label("geom"),
        model.id.label("id"),
        *tile_attributes(spec),
        *risk_columns(),
    )
    rows = with_training(with_risks(rows, spec), spec)
    return rows.where(in_bounds(spec, tile.margin_bounds), *where).limit(limit)


def summary_columns(spec: LayerSpec) -> list[ColumnElement[Any]]:
    """Return what a cluster says of its members: count, max of integers, count of trues."""
    columns: list[ColumnElement[Any]] = [func.count().label("count")]
    for attribute in spec.attributes:
        if not attribute.tile:
            continue
        column = getattr(spec.model, attribute.name)
        if attribute.type is AttrType.INTEGER:
            columns.append(func.max(column).label(f"max_{attribute.name}"))
        elif attribute.type is AttrType.BOOLEAN:
            columns.append(func.count().filter(column.is_(True)).label(f"{attribute.name}_count"))
    return columns


def within_tile(spec: LayerSpec, tile: TileFrame) -> ColumnElement[bool]:
    """Return "the point lies in the tile", half-open so a point belongs to one tile only.

    Matches ``geo.tiling.lonlat_to_tile``: west and north edges belong to the tile.
    """
    geometry = mercator_geometry(spec)
    minx, miny, maxx, maxy = tile.bounds
    x, y = func.ST_X(geometry), func.ST_Y(geometry)
    return and_(in_bounds(spec, tile.bounds), x >= minx, x < maxx, y > miny, y <= maxy)


def cluster_rows(
    spec: LayerSpec, tile: TileFrame, where: list[ColumnElement[bool]], grid: int
) -> Select[Any]:
    """Return one point per occupied grid cell of the tile, at its members' mean position.

    The grid is aligned to the tile, so a cluster never straddles two tiles and a tile
    holds at most ``grid * grid`` clusters whatever the density.
    """
    geometry = mercator_geometry(spec)
    minx, miny, maxx, _ = tile.bounds
    cell = (maxx - minx) / grid
    x, y = func.ST_X(geometry), func.ST_Y(geometry)
    column_of, row_of = func.floor((x - minx) / cell), func.floor((y - miny) / cell)
    centre = func.ST_SetSRID(func.ST_MakePoint(func.avg(x), func.avg(y)), 3857)
    rows = select(
        as_mvt_geometry(centre, tile).label("geom"), *summary_columns(spec), *risk_summary()
    )
    return with_risks(rows, spec).where(within_tile(spec, tile), *where).group_by(column_of, row_of)
