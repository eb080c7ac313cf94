"""Precomputed low-zoom clusters of dense point layers, refreshed from a dirty list.

A cluster cell of zoom ``z`` is a tile of zoom ``z + CLUSTER_SHIFT``, so a tile holds
at most 32 x 32 clusters and none straddles two tiles. ``tile_clusters`` keeps, per
layer, zoom, cell and precinct: the count, the coordinate sums (for the mean position),
the maximum of each integer tile attribute, the count of each true boolean one, and the
members' open hazards and highest hazard level (``feature_risks``).

Triggers (migrations 0002 and 0018) append the box of every statement's changed rows
(features, or their risks) to ``tile_cluster_dirty``, whoever wrote them. Before clusters
are read, the dirty boxes are taken under an advisory lock and their cells recomputed:
the finest zoom from the points, every coarser zoom from the four cells below it. A box
too large for that (a bulk load) rebuilds the layer: about 5 s for a million points on
2 cores.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Column,
    ColumnElement,
    Float,
    Integer,
    MetaData,
    Select,
    SmallInteger,
    String,
    Table,
    and_,
    bindparam,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.orm import Session

from geo.tiling import ORIGIN_SHIFT_M, lonlat_to_tile, tile_bounds_3857
from layers.accounts.scope import Scope, ScopeKind
from layers.features.registry import Attribute, AttrType, LayerSpec
from layers.records.hazards import FeatureRisk
from tiles.sql import BBox, TileFrame, as_mvt_geometry, envelope, mercator_geometry, with_risks

CLUSTER_SHIFT = 5
# Refresh cell by cell up to this many finest cells per dirty box; rebuild beyond.
MAX_INCREMENTAL_CELLS = 4096

# Not ORM models: only tiles/ reads them and the migration owns their schema.
metadata = MetaData()
clusters = Table(
    "tile_clusters", metadata,
    Column("layer", String(64)), Column("zoom", SmallInteger),
    Column("cx", Integer), Column("cy", Integer),
    Column("precinct_id", BigInteger), Column("district_id", BigInteger),
    Column("n", Integer), Column("sum_x", Float(53)), Column("sum_y", Float(53)),
    Column("maxima", ARRAY(Integer)), Column("trues", ARRAY(Integer)),
    Column("open_hazards", Integer), Column("hazard_level", SmallInteger),
)  # fmt: skip
dirty = Table(
    "tile_cluster_dirty", metadata,
    Column("id", BigInteger, primary_key=True), Column("layer", String(64)),
    Column("west", Float(53)), Column("south", Float(53)),
    Column("east", Float(53)), Column("north", Float(53)),
)  # fmt: skip
CellRange = tuple[Any, Any, Any, Any]  # min cx, min cy, max cx, max cy: ints or SQL


def summarised(spec: LayerSpec, kind: AttrType) -> list[Attribute]:
    """Return the tile attributes of ``spec`` of type ``kind``, in registry order."""
    return [a for a in spec.attributes if a.tile and a.type is kind]


def _int_array(items: Sequence[ColumnElement[Any]]) -> ColumnElement[Any]:
    if not items:
        return cast(literal("{}"), ARRAY(Integer))
    return array(items, type_=Integer)


def _cell_of(spec: LayerSpec, zoom: int) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    size = 2 * ORIGIN_SHIFT_M / (1 << (zoom + CLUSTER_SHIFT))
    geometry = mercator_geometry(spec)
    cx = func.floor((func.ST_X(geometry) + ORIGIN_SHIFT_M) / size)
    cy = func.floor((ORIGIN_SHIFT_M - func.ST_Y(geometry)) / size)
    return cast(cx, Integer), cast(cy, Integer)


def _in_range(cx: Any, cy: Any, cells: CellRange | None) -> ColumnElement[bool]:
    if cells is None:
        return true()
    return and_(cx.between(cells[0], cells[2]), cy.between(cells[1], cells[3]))


def _finest_rows(spec: LayerSpec, zoom: int, cells: CellRange | None) -> Select[Any]:
    """Return cluster rows of the finest zoom computed from the layer's points."""
    model: Any = spec.model
    cx, cy = _cell_of(spec, zoom)
    geometry = mercator_geometry(spec)
    where = [_in_range(cx, cy, cells)]
    if cells is not None:
        west, _, _, north = tile_bounds_3857(zoom + CLUSTER_SHIFT, cells[0], cells[1])
        _, south, east, _ = tile_bounds_3857(zoom + CLUSTER_SHIFT, cells[2], cells[3])
        where.append(geometry.op("&&")(envelope((west, south, east, north))))
    maxima = [func.max(getattr(model, a.name)) for a in summarised(spec, AttrType.INTEGER)]
    trues = [
        cast(func.count().filter(getattr(model, a.name).is_(True)), Integer)
        for a in summarised(spec, AttrType.BOOLEAN)
    ]
    rows: Select[Any] = select(
        literal(spec.id),
        literal(zoom),
        cx,
        cy,
        model.precinct_id,
        model.district_id,
        func.count(),
        func.sum(func.ST_X(geometry)),
        func.sum(func.ST_Y(geometry)),
        _int_array(maxima),
        _int_array(trues),
        cast(func.coalesce(func.sum(FeatureRisk.open_hazards), 0), Integer),
        func.max(FeatureRisk.hazard_level),
    )
    return (
        with_risks(rows, spec).where(*where).group_by(cx, cy, model.precinct_id, model.district_id)
    )


def _rolled_up_rows(spec: LayerSpec, zoom: int, cells: CellRange | None) -> Select[Any]:
    """Return cluster rows of ``zoom`` merged from the four cells below each."""
    c = clusters.c
    cx, cy = c.cx.op(">>")(1), c.cy.op(">>")(1)
    n_max, n_true = (len(summarised(spec, k)) for k in (AttrType.INTEGER, AttrType.BOOLEAN))
    return (
        select(
            literal(spec.id),
            literal(zoom),
            cx,
            cy,
            c.precinct_id,
            c.district_id,
            cast(func.sum(c.n), Integer),
            func.sum(c.sum_x),
            func.sum(c.sum_y),
            _int_array([func.max(c.maxima[i + 1]) for i in range(n_max)]),
            _int_array([cast(func.sum(c.trues[i + 1]), Integer) for i in range(n_true)]),
            cast(func.sum(c.open_hazards), Integer),
            func.max(c.hazard_level),
        )
        .where(c.layer == spec.id, c.zoom == zoom + 1, _in_range(cx, cy, cells))
        .group_by(cx, cy, c.precinct_id, c.district_id)
    )


def _replace(session: Session, spec: LayerSpec, zoom: int, cells: CellRange | None) -> None:
    c = clusters.c
    session.execute(
        delete(clusters).where(c.layer == spec.id, c.zoom == zoom, _in_range(c.cx, c.cy, cells))
    )
    finest = spec.point_zoom - 1
    rows = _finest_rows(spec, zoom, cells) if zoom == finest else _rolled_up_rows(spec, zoom, cells)
    session.execute(insert(clusters).from_select([col.name for col in clusters.c], rows))


def finest_cells(spec: LayerSpec, bounds: BBox) -> CellRange:
    """Return the cells of the finest cluster zoom that a WGS84 box touches."""
    zoom = spec.point_zoom - 1 + CLUSTER_SHIFT
    west, south, east, north = bounds
    min_x, min_y = lonlat_to_tile(west, north, zoom)
    max_x, max_y = lonlat_to_tile(east, south, zoom)
    return (min_x, min_y, max_x, max_y)


def refresh(session: Session, spec: LayerSpec, bounds: BBox | None) -> None:
    """Recompute the clusters of ``spec`` in ``bounds`` at every zoom (all if None)."""
    cells = None if bounds is None else finest_cells(spec, bounds)
    for zoom in range(spec.point_zoom - 1, -1, -1):
        _replace(session, spec, zoom, cells)
        if cells is not None:
            cells = (cells[0] >> 1, cells[1] >> 1, cells[2] >> 1, cells[3] >> 1)


def _too_big(spec: LayerSpec, bounds: BBox) -> bool:
    x0, y0, x1, y1 = finest_cells(spec, bounds)
    return (x1 - x0 + 1) * (y1 - y0 + 1) > MAX_INCREMENTAL_CELLS


def ensure_fresh(session: Session, spec: LayerSpec) -> None:
    """Recompute the clusters the dirty list names for ``spec``, once across workers."""
    if not session.scalar(select(exists().where(dirty.c.layer == spec.id))):
        return
    session.execute(select(func.pg_advisory_xact_lock(zlib.crc32(f"clusters:{spec.id}".encode()))))
    d = dirty.c
    taken = session.execute(
        delete(dirty).where(d.layer == spec.id).returning(d.west, d.south, d.east, d.north)
    ).all()
    boxes: list[BBox] = [(r[0], r[1], r[2], r[3]) for r in taken]
    if any(_too_big(spec, b) for b in boxes) or len(boxes) > 64:
        refresh(session, spec, None)
        return
    for bounds in boxes:
        refresh(session, spec, bounds)


def awaiting_refresh(specs: Sequence[LayerSpec]) -> ColumnElement[bool]:
    """Return "the dirty list names one of these layers".

    Read in the statement that reads the clusters, it speaks for the same snapshot: false
    means the clusters read are fresh.
    """
    return exists().where(dirty.c.layer.in_([spec.id for spec in specs]))


def scope_clause(scope: Scope) -> ColumnElement[bool] | None:
    """Return the clusters condition of ``scope``; None when clusters cannot serve it.

    Mirrors ``Scope.clause``; a unit user's single unit is aggregated from the points.
    """
    if scope.kind is ScopeKind.CITY:
        return true()
    if scope.kind is ScopeKind.DISTRICT:
        return clusters.c.district_id == scope.id
    if scope.kind is ScopeKind.PRECINCT:
        return clusters.c.precinct_id == scope.id
    return None


def cell_params(x: int, y: int) -> dict[str, int]:
    """Return the values of the bind parameters of ``stored_cluster_rows`` for tile x/y."""
    return {"cell_x0": x << CLUSTER_SHIFT, "cell_y0": y << CLUSTER_SHIFT}


def stored_cluster_rows(
    spec: LayerSpec, tile: TileFrame, z: int, where: ColumnElement[bool]
) -> Select[Any]:
    """Return the clusters of a tile of zoom ``z`` (placed by ``cell_params``) from the table."""
    c = clusters.c
    first_x, first_y = bindparam("cell_x0", type_=Integer), bindparam("cell_y0", type_=Integer)
    span = (1 << CLUSTER_SHIFT) - 1
    n = func.sum(c.n)
    centre = func.ST_SetSRID(func.ST_MakePoint(func.sum(c.sum_x) / n, func.sum(c.sum_y) / n), 3857)
    columns = [as_mvt_geometry(centre, tile).label("geom"), cast(n, Integer).label("count")]
    for i, a in enumerate(summarised(spec, AttrType.INTEGER)):
        columns.append(func.max(c.maxima[i + 1]).label(f"max_{a.name}"))
    for i, a in enumerate(summarised(spec, AttrType.BOOLEAN)):
        columns.append(cast(func.sum(c.trues[i + 1]), Integer).label(f"{a.name}_count"))
    hazards = cast(func.sum(c.open_hazards), Integer)
    columns.append(func.nullif(hazards, 0).label("open_hazards"))  # absent, like a point's
    columns.append(func.max(c.hazard_level).label("max_hazard_level"))
    cells = (first_x, first_y, first_x + span, first_y + span)
    return (
        select(*columns)
        .where(c.layer == spec.id, c.zoom == z, _in_range(c.cx, c.cy, cells), where)
        .group_by(c.cx, c.cy)
    )
