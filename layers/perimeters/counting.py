"""The statements that number a perimeter's rows by ring and count them, built once.

Rings are annuli: a feature is counted in the innermost ring holding it (a point in it,
an area meeting it). One statement per layer numbers each row's ring with a ``CASE``
over the rings' stored shapes (read once each, so PostGIS keeps each prepared), whose
vertices lie along geodesics (``geo.densify``): these planar tests give the geodesic
answer. Point layers are read cell by cell through ``perimeter_cells``: the points of a
cell wholly inside one annulus need no test at all (units are counted there from
``unit_cell_counts``), those of the cells on a ring's edge are tested against that ring
only. Other layers are read by the extent's box.

A layer's statements depend on the reader, the window and the ring kinds, not on the
perimeter (a parameter): ``counting`` builds them once and keeps them, so a request
neither builds nor keys again the few large expressions it runs (~1 ms each).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    BindParameter,
    ColumnElement,
    CompoundSelect,
    Select,
    SmallInteger,
    String,
    Subquery,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    null,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by, array_agg

from layers.accounts.scope import Actor
from layers.perimeters.models import Perimeter, PerimeterCell, PerimeterRing, UnitCellCount
from layers.perimeters.sources import Source, Window, source

PerimeterId = int | BindParameter[int]
PERIMETER: BindParameter[int] = bindparam("perimeter_id", type_=BigInteger())


def _ring_shape(perimeter_id: PerimeterId, kind: str) -> ColumnElement[Any]:
    return (
        select(PerimeterRing.geom)
        .where(PerimeterRing.perimeter_id == perimeter_id, PerimeterRing.kind == kind)
        .scalar_subquery()
    )


def _innermost(
    shapes: Sequence[ColumnElement[Any]], geom: Any, cells: Subquery | None = None
) -> ColumnElement[int]:
    """Return the index of the innermost ring holding ``geom`` (NULL: none).

    With ``cells`` (``perimeter_cells``) a cell's points are tested only against the
    rings its edge crosses (``geo.hexrings``); those wholly inside a ring are not.
    """
    if cells is None:
        return case(*((func.ST_Intersects(s, geom), i) for i, s in enumerate(shapes)))
    first, whole = cells.c.first, cells.c.whole
    tests = [(and_(first <= i, whole > i, func.ST_Intersects(s, geom)), i)
             for i, s in enumerate(shapes)]  # fmt: skip
    return case((first == whole, first), *tests, (whole < len(shapes), whole))


def ringed(
    src: Source, perimeter_id: PerimeterId, kinds: Sequence[str], *, edges_only: bool = False
) -> list[Subquery]:
    """Return ``(id, ring, *groups)`` of the source's rows near the perimeter's rings.

    ``ring`` is the index in ``kinds`` (innermost first) of the innermost ring holding the
    row, NULL for a row near but outside them all. A point layer is read through the
    perimeter's cells (with ``edges_only``, only those on a ring's edge), with a second
    part for rows without a cell (by their geometry); other layers by the extent's box.
    (Parts, not a UNION: it would cost a district's units a copy of every row.)
    """
    table = src.table
    shapes = [_ring_shape(perimeter_id, k) for k in kinds]
    box = select(Perimeter.extent).where(Perimeter.id == perimeter_id).scalar_subquery()
    near = table.geom.op("&&")(box)
    by_box = select(table.id, _innermost(shapes, table.geom).label("ring"), *src.groups)
    if not src.by_cell:
        return [by_box.where(*src.where, near).subquery()]
    cells = (
        select(PerimeterCell)
        .where(
            PerimeterCell.perimeter_id == perimeter_id,
            *((PerimeterCell.first != PerimeterCell.whole,) if edges_only else ()),
        )
        .subquery()
    )
    # one index probe per cell (OFFSET 0 keeps the subquery apart): joined plainly, the
    # planner chose to walk a layer's whole cell index in a merge join
    rows = (select(table.id, table.geom, *src.groups)
            .where(table.h3_cell == cells.c.cell, *src.where).offset(0).lateral())  # fmt: skip
    by_cell = (
        select(rows.c.id, _innermost(shapes, rows.c.geom, cells).label("ring"),
               *(rows.c[g.key] for g in src.groups))
        .select_from(cells).join(rows, true())
    )  # fmt: skip
    return [by_cell.subquery(), by_box.where(*src.where, table.h3_cell.is_(None), near).subquery()]


# Every statement answers in one shape, so the layers are counted in one answer:
# (layer, ring, category, risk_level, n, first); the groups NULL outside units, ``first``
# NULL where no ids are read, ``n`` 0 on the rows carrying only first ids.
_CATEGORY, _RISK = String(32, collation="C"), SmallInteger()
_IDS = ARRAY(BigInteger())


def _shaped(layer: int, ring: Any, groups: Sequence[Any], n: Any, first: Any) -> list[Any]:
    category, risk = groups or (cast(null(), _CATEGORY), cast(null(), _RISK))
    return [literal(layer, SmallInteger()).label("layer"), ring.label("ring"),
            category.label("category"), risk.label("risk_level"), n.label("n"),
            (first if first is not None else cast(null(), _IDS)).label("first")]  # fmt: skip


def _counts(layer: int, src: Source, rows: Subquery, page_size: int) -> Select[Any]:
    """Return the counts of one part by ring (and group), with each group's first ids."""
    groups = [rows.c[g.key] for g in src.groups]
    first = array_agg(aggregate_order_by(rows.c.id, rows.c.id))[1:page_size] if page_size else None
    return (select(*_shaped(layer, rows.c.ring, groups, func.count(), first))
            .group_by(rows.c.ring, *groups))  # fmt: skip


def _whole() -> Subquery:
    """Return the perimeter's cells wholly inside one annulus."""
    return (select(PerimeterCell.cell, PerimeterCell.whole)
            .where(PerimeterCell.perimeter_id == PERIMETER,
                   PerimeterCell.first == PerimeterCell.whole)
            .subquery())  # fmt: skip


def _whole_counts(layer: int, src: Source) -> Select[Any]:
    """Return the counts of the units of whole cells by ring and group, from the rollup."""
    assert src.cell_counts is not None
    cells = _whole()
    groups = [UnitCellCount.category, UnitCellCount.risk_level]
    n = cast(func.sum(UnitCellCount.n), BigInteger)
    return (
        select(*_shaped(layer, cells.c.whole, groups, n, None))
        .join_from(cells, UnitCellCount, UnitCellCount.h3_cell == cells.c.cell)
        .where(src.cell_counts).group_by(cells.c.whole, *groups)
    )  # fmt: skip


def _whole_firsts(layer: int, src: Source, page_size: int) -> Select[Any]:
    """Return each ring's first ids among its whole cells (``n`` 0).

    A ring's first ``page_size`` ids lie in the ``page_size`` cells whose own first id is
    smallest: the first id of every cell is read (one index entry each), then the first
    ids of those few cells only.
    """
    table, cells = src.table, _whole()
    lowest = (select(table.id).where(table.h3_cell == cells.c.cell, *src.where)
              .order_by(table.id).limit(1).scalar_subquery())  # fmt: skip
    ranked = select(cells.c.cell, cells.c.whole, lowest.label("lowest")).subquery()
    rank = func.row_number().over(partition_by=ranked.c.whole, order_by=ranked.c.lowest)
    picked = (select(ranked.c.cell, ranked.c.whole, rank.label("rank"))
              .where(ranked.c.lowest.is_not(None)).subquery())  # fmt: skip
    first = (select(table.id).where(table.h3_cell == picked.c.cell, *src.where)
             .order_by(table.id).limit(page_size).lateral())  # fmt: skip
    ids = array_agg(aggregate_order_by(first.c.id, first.c.id))[1:page_size]
    return (
        select(*_shaped(layer, picked.c.whole, (), cast(literal(0), BigInteger), ids))
        .select_from(picked).join(first, true()).where(picked.c.rank <= page_size)
        .group_by(picked.c.whole)
    )  # fmt: skip


def _statements(layer: int, src: Source, kinds: Sequence[str], page_size: int
                ) -> list[Select[Any]]:  # fmt: skip
    rollup = src.cell_counts is not None
    found = [_counts(layer, src, rows, page_size)
             for rows in ringed(src, PERIMETER, kinds, edges_only=rollup)]  # fmt: skip
    if rollup:
        found.append(_whole_counts(layer, src))
        if page_size:
            found.append(_whole_firsts(layer, src, page_size))
    return found


@dataclass(frozen=True)
class Counting:
    """The layers' sources and the one statement counting them all (``perimeter_id``).

    Its rows: ``(layer, ring, category, risk_level, n, first)``, ``layer`` the index in
    ``sources``; with the rollup, the units of the edge cells are counted one by one, those
    of whole cells from ``unit_cell_counts``, and the whole cells' first ids come apart.
    """

    sources: tuple[Source, ...]
    statement: CompoundSelect


@lru_cache(maxsize=256)
def counting(
    layer_ids: tuple[str, ...], actor: Actor, window: Window, kinds: tuple[str, ...],
    page_size: int,
) -> Counting:  # fmt: skip
    """Return the statement counting the layers' rows by ring for ``actor`` over ``window``.

    One statement (the parts' counts in one ``UNION ALL``): one round trip, not one per
    layer and part.
    """
    sources = tuple(source(layer_id, actor, window) for layer_id in layer_ids)
    parts = [part for i, src in enumerate(sources)
             for part in _statements(i, src, kinds, page_size)]  # fmt: skip
    return Counting(sources, union_all(*parts))
