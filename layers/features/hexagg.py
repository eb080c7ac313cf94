"""Per-H3-cell counts and sums of the dense point layers, kept fresh from a dirty list.

``hex_counts`` holds, per layer, resolution (0-9), cell, district and precinct, the
number of features whose representative point lies in the cell (``h3_cell`` at
resolution 9, ``h3_coarse`` coarser) and the sum of each integer attribute. A
whole-city hexbin request then groups a few thousand stored rows instead of scanning a
million features.

H3 children are not inside their parent (~6 % of points at each resolution lie in a
neighbour of their finer cell's parent), so a coarser row cannot be summed from the
rows of its children. Each row also keeps ``coarse``, the cells at every coarser
resolution of its features, and is split by it: the rows of resolution ``r`` are then
exactly the rows of ``r + 1`` grouped by their resolution-``r`` cell.

The boxes of changed rows come from the tile clusters' mechanism (migration 0002):
every statement that writes a clustered layer queues its box in
``tile_cluster_dirty``, and migration 0004 copies each queued box into
``hex_count_dirty``. Before a read the boxes are taken under an advisory lock; the
resolution-9 cells overlapping them are recomputed from the features, then at every
coarser resolution the cells that the removed and added rows name, from the rows one
resolution finer (those of the 49 cells under the cell and its neighbours, where a
point of the cell may have its finer cell). A box too large for that (a bulk load)
rebuilds the layer.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any

from h3.api import basic_int
from shapely.geometry import box
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Float,
    Identity,
    Index,
    Integer,
    Select,
    SmallInteger,
    String,
    Table,
    and_,
    any_,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, array
from sqlalchemy.orm import Mapped, Session, mapped_column

from geo import hexes
from layers.accounts.scope import Scope, ScopeKind
from layers.base import Base
from layers.features.registry import Attribute, AttrType, LayerSpec

FINEST = 9  # the resolution of the stored h3_cell
NO_AREA = 0  # district_id / precinct_id of features outside every district / precinct
# Refresh cell by cell up to this many resolution-9 cells; rebuild the layer beyond.
MAX_INCREMENTAL_CELLS = 4096
# A box wider than this (in square degrees, ~470 km² at Beijing) is certainly too many cells.
_MAX_INCREMENTAL_DEG2 = 0.05
# Boxes of points are degenerate; the pad keeps a point on a cell edge in both cells.
_PAD_DEG = 1e-6
_H3_RES_SHIFT = 52
_H3_RES_BITS = 0xF << _H3_RES_SHIFT
_H3_INDEX_BITS = (1 << 63) - 1  # bit 63 is always 0 in a cell index


class HexCount(Base):
    """Features of one layer in one H3 cell, district and precinct: count and sums."""

    __tablename__ = "hex_counts"
    # The key carries ``coarse`` (a 9-element array): reads of a resolution use this one.
    __table_args__ = (Index("ix_hex_counts_cell", "layer", "resolution", "cell"),)

    layer: Mapped[str] = mapped_column(String(64), primary_key=True)
    resolution: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    cell: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    district_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    precinct_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    coarse: Mapped[list[int]] = mapped_column(ARRAY(BigInteger), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)
    sums: Mapped[list[int]] = mapped_column(ARRAY(BigInteger))


class HexCountDirty(Base):
    """A WGS84 box of one layer whose cells must be recomputed before the next read."""

    __tablename__ = "hex_count_dirty"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    layer: Mapped[str] = mapped_column(String(64), index=True)
    west: Mapped[float] = mapped_column(Float(53))
    south: Mapped[float] = mapped_column(Float(53))
    east: Mapped[float] = mapped_column(Float(53))
    north: Mapped[float] = mapped_column(Float(53))


def parent_masks(resolution: int) -> tuple[int, int]:
    """Return ``(clear, set)`` masks so ``(cell & clear) | set`` is the parent at ``resolution``.

    An H3 index keeps its resolution in bits 52-55 and one 3-bit digit per finer
    resolution below; a parent has the coarser resolution and digits 7 ("unused").
    """
    unused_digits = (1 << (3 * (15 - resolution))) - 1
    clear = _H3_INDEX_BITS & ~(_H3_RES_BITS | unused_digits)
    return clear, (resolution << _H3_RES_SHIFT) | unused_digits


def parent_cell(cell: Any, resolution: int) -> Any:
    """Return the SQL parent at ``resolution`` of a resolution-9 (or finer) cell column."""
    clear, set_ = parent_masks(resolution)
    return cell.bitwise_and(clear).bitwise_or(set_)


def cell_at(model: Any, resolution: int) -> Any:
    """Return the SQL cell at ``resolution`` of a feature's representative point.

    A row written by hand with ``h3_cell`` but no ``h3_coarse`` falls back to the
    ancestors of its cell (right for ~94 % of points at each resolution).
    """
    if resolution == FINEST:
        return model.h3_cell
    return func.coalesce(model.h3_coarse[resolution + 1], parent_cell(model.h3_cell, resolution))


def _coarse_cells(model: Any) -> Any:
    """Return the SQL array of a feature's cells at resolutions 0..8 (see ``cell_at``)."""
    ancestors = array([parent_cell(model.h3_cell, r) for r in range(FINEST)], type_=BigInteger)
    return func.coalesce(model.h3_coarse, ancestors)


def aggregated(spec: LayerSpec) -> bool:
    """Return whether ``spec`` has stored hex counts: the clustered layers (point_zoom)."""
    return spec.point_zoom > 0


def summed(spec: LayerSpec) -> list[Attribute]:
    """Return the integer attributes of ``spec`` whose sums are stored, in registry order."""
    return [a for a in spec.attributes if a.type is AttrType.INTEGER]


def _sums(items: Sequence[ColumnElement[Any]]) -> ColumnElement[Any]:
    if not items:
        return cast(literal("{}"), ARRAY(BigInteger))
    return array([cast(item, BigInteger) for item in items], type_=BigInteger)


def _among(column: Any, cells: list[int]) -> ColumnElement[bool]:
    return column == any_(literal(cells, ARRAY(BigInteger)))  # one array parameter


def _finest_rows(spec: LayerSpec, cells: list[int] | None) -> Select[Any]:
    """Return resolution-9 rows computed from the layer's features."""
    model: Any = spec.model
    district = func.coalesce(model.district_id, NO_AREA)
    precinct = func.coalesce(model.precinct_id, NO_AREA)
    where = model.h3_cell.is_not(None) if cells is None else _among(model.h3_cell, cells)
    sums = [func.coalesce(func.sum(getattr(model, a.name)), 0) for a in summed(spec)]
    coarse = _coarse_cells(model)
    rows: Select[Any] = (
        select(literal(spec.id), literal(FINEST), model.h3_cell, district, precinct, coarse,
               func.count(), _sums(sums))
        .where(where)
        .group_by(model.h3_cell, district, precinct, coarse)
    )  # fmt: skip
    return rows


def _rolled_up_rows(spec: LayerSpec, resolution: int, cells: list[int] | None) -> Select[Any]:
    """Return rows of ``resolution`` (of ``cells``, or all) from the rows one resolution finer."""
    c = HexCount.__table__.c
    cell, coarse = c.coarse[resolution + 1], c.coarse[1:resolution]
    where: ColumnElement[bool] = true()
    if cells is not None:
        near = {n for k in cells for n in basic_int.grid_disk(k, 1)}
        below = [child for n in sorted(near) for child in hexes.children(n, resolution + 1)]
        where = and_(_among(c.cell, below), _among(cell, cells))
    sums = [func.sum(c.sums[i + 1]) for i in range(len(summed(spec)))]
    rows: Select[Any] = (
        select(literal(spec.id), literal(resolution), cell, c.district_id, c.precinct_id,
               coarse, cast(func.sum(c.n), Integer), _sums(sums))
        .where(c.layer == spec.id, c.resolution == resolution + 1, where)
        .group_by(cell, c.district_id, c.precinct_id, coarse)
    )  # fmt: skip
    return rows


def refresh(session: Session, spec: LayerSpec, cells: list[int] | None) -> None:
    """Recompute resolution-9 ``cells`` and the coarser cells their features were or are in.

    ``None`` rebuilds the whole layer.
    """
    table: Table = HexCount.__table__  # type: ignore[assignment]  # Core: keys are lists
    c = table.c
    for resolution in range(FINEST, -1, -1):
        mine = _among(c.cell, cells) if cells is not None else true()
        removed = delete(table).where(c.layer == spec.id, c.resolution == resolution, mine)
        rows = (_finest_rows(spec, cells) if resolution == FINEST
                else _rolled_up_rows(spec, resolution, cells))  # fmt: skip
        added = insert(table).from_select([col.name for col in c], rows)
        if cells is None:
            session.execute(removed)
            session.execute(added)
            continue
        up = c.coarse[resolution]  # the cell one resolution coarser
        named = [*session.scalars(removed.returning(up)), *session.scalars(added.returning(up))]
        cells = sorted({int(cell) for cell in named if cell is not None})
    if cells is None:  # fresh statistics keep later per-cell refreshes on the index
        session.execute(text("ANALYZE hex_counts"))


def cells_in(bounds: tuple[float, float, float, float]) -> list[int] | None:
    """Return the resolution-9 cells a WGS84 box overlaps, or None if there are too many."""
    west, south, east, north = bounds
    if (east - west) * (north - south) > _MAX_INCREMENTAL_DEG2:
        return None
    padded = box(west - _PAD_DEG, south - _PAD_DEG, east + _PAD_DEG, north + _PAD_DEG)
    cells = hexes.cover_polygon(padded, resolution=FINEST, max_cells=MAX_INCREMENTAL_CELLS)
    return cells if basic_int.get_resolution(cells[0]) == FINEST else None


def _dirty_cells(session: Session, spec: LayerSpec) -> list[int] | None:
    """Take the layer's dirty boxes; return their cells (None: rebuild everything)."""
    d = HexCountDirty.__table__.c
    taken = session.execute(
        delete(HexCountDirty).where(d.layer == spec.id).returning(d.west, d.south, d.east, d.north)
    ).all()
    cells: set[int] = set()
    for west, south, east, north in taken:
        found = cells_in((west, south, east, north))
        if found is None:
            return None
        cells.update(found)
        if len(cells) > MAX_INCREMENTAL_CELLS:
            return None
    return sorted(cells)


def ensure_fresh(session: Session, spec: LayerSpec) -> None:
    """Recompute the cells the dirty list names for ``spec``, once across workers."""
    d = HexCountDirty.__table__.c
    if not session.scalar(select(exists().where(d.layer == spec.id))):
        return
    session.execute(select(func.pg_advisory_xact_lock(zlib.crc32(f"hexes:{spec.id}".encode()))))
    refresh(session, spec, _dirty_cells(session, spec))


def scope_clause(scope: Scope) -> ColumnElement[bool] | None:
    """Return the stored rows' condition of ``scope``; None when they cannot serve it.

    Mirrors ``Scope.clause``; a unit user's single unit is counted from the features.
    """
    c = HexCount.__table__.c
    if scope.kind is ScopeKind.CITY:
        return true()
    if scope.kind is ScopeKind.DISTRICT:
        return c.district_id == scope.id
    if scope.kind is ScopeKind.PRECINCT:
        return c.precinct_id == scope.id
    return None


def stored_bins(
    spec: LayerSpec, resolution: int, where: ColumnElement[bool], sum_of: str | None
) -> Select[Any]:
    """Return ``cell, n[, total]`` per cell of ``resolution`` from the stored rows."""
    c = HexCount.__table__.c
    columns: list[Any] = [c.cell.label("cell"), cast(func.sum(c.n), BigInteger).label("n")]
    if sum_of is not None:
        index = [a.name for a in summed(spec)].index(sum_of) + 1
        columns.append(cast(func.sum(c.sums[index]), BigInteger).label("total"))
    return (
        select(*columns)
        .where(c.layer == spec.id, c.resolution == resolution, where)
        .group_by(c.cell)
    )  # fmt: skip
