"""What each ring of a perimeter holds: counts, groupings and the first page, per layer.

Rings are annuli: a feature is counted in the innermost ring holding it (a point in it,
an area meeting it). One statement per layer numbers each row's ring with a ``CASE``
over the rings' stored shapes (read once each, so PostGIS keeps each prepared), whose
vertices lie along geodesics (``geo.densify``): these planar tests give the geodesic
answer. Point layers are read cell by cell through ``perimeter_cells``: the points of a
cell wholly inside one annulus need no test at all (units come from an index holding
what they are counted by: no visit to the table), those of the cells on a ring's edge
are tested against that ring only. Other layers are read by the extent's box.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    Subquery,
    and_,
    case,
    cast,
    func,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by, array_agg
from sqlalchemy.orm import Session

from geo.crs import CoordSystem
from layers.accounts.scope import Actor
from layers.errors import InvalidInput
from layers.features.query import FeatureRow, plain_plans
from layers.perimeters.models import Perimeter, PerimeterCell, PerimeterRing, UnitCellCount
from layers.perimeters.rings import RING_ORDER, RING_TITLES, RingKind
from layers.perimeters.service import read_perimeter, rings_of
from layers.perimeters.sources import Source, Window, check_layers, rows_of, source


@dataclass
class LayerContent:
    """One layer within one ring: how many, counts by group, and the first features by id."""

    layer: str
    title: str
    count: int = 0
    groups: dict[str, dict[str, int]] = field(default_factory=dict)
    features: list[FeatureRow] = field(default_factory=list)


@dataclass
class RingContent:
    """One ring (an annulus inside the next): its kind, area and layers."""

    kind: RingKind
    title: str
    area_m2: float
    layers: dict[str, LayerContent]


def _ring_shape(perimeter_id: int, kind: str) -> ColumnElement[Any]:
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
    src: Source, perimeter_id: int, kinds: Sequence[str], *, edges_only: bool = False
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
        select(
            rows.c.id,
            _innermost(shapes, rows.c.geom, cells).label("ring"),
            *(rows.c[g.key] for g in src.groups),
        )
        .select_from(cells)
        .join(rows, true())
    )
    return [by_cell.subquery(), by_box.where(*src.where, table.h3_cell.is_(None), near).subquery()]


def _counted(session: Session, src: Source, parts: list[Subquery], page_size: int) -> list[Any]:
    found: list[Any] = []
    for rows in parts:
        keys = [rows.c.ring, *(rows.c[g.key] for g in src.groups)]
        columns: list[Any] = [*keys, func.count().label("n")]
        if page_size:
            first = array_agg(aggregate_order_by(rows.c.id, rows.c.id))[1:page_size]
            columns.append(first.label("first"))
        found += session.connection().execute(select(*columns).group_by(*keys)).all()
    return found


def _whole_cells(
    session: Session, src: Source, perimeter_id: int, page_size: int
) -> tuple[Sequence[Any], Sequence[Any]]:
    """Return the counts by ring and group of the rows in cells wholly inside a ring, from
    ``unit_cell_counts``, and each ring's first ids (the first of each cell, by index)."""
    assert src.cell_counts is not None
    cells = (
        select(PerimeterCell.cell, PerimeterCell.whole)
        .where(PerimeterCell.perimeter_id == perimeter_id,
               PerimeterCell.first == PerimeterCell.whole)
        .subquery()
    )  # fmt: skip
    keys = [cells.c.whole, UnitCellCount.category, UnitCellCount.risk_level]
    counted = (
        select(cells.c.whole.label("ring"), *keys[1:],
               cast(func.sum(UnitCellCount.n), BigInteger).label("n"))
        .join_from(cells, UnitCellCount, UnitCellCount.h3_cell == cells.c.cell)
        .where(src.cell_counts).group_by(*keys)
    )  # fmt: skip
    connection = session.connection()
    counts = connection.execute(counted).all()
    if not page_size:
        return counts, []
    return counts, connection.execute(_whole_firsts(src, cells, page_size)).all()


def _whole_firsts(src: Source, cells: Subquery, page_size: int) -> Select[Any]:
    """Return the statement of each ring's first ids among its whole cells.

    A ring's first ``page_size`` ids lie in the ``page_size`` cells whose own first id is
    smallest: the first id of every cell is read (one index entry each), then the first
    ids of those few cells only.
    """
    table = src.table
    lowest = (select(table.id).where(table.h3_cell == cells.c.cell, *src.where)
              .order_by(table.id).limit(1).scalar_subquery())  # fmt: skip
    ranked = select(cells.c.cell, cells.c.whole, lowest.label("lowest")).subquery()
    rank = func.row_number().over(partition_by=ranked.c.whole, order_by=ranked.c.lowest)
    picked = (select(ranked.c.cell, ranked.c.whole, rank.label("rank"))
              .where(ranked.c.lowest.is_not(None)).subquery())  # fmt: skip
    first = (select(table.id).where(table.h3_cell == picked.c.cell, *src.where)
             .order_by(table.id).limit(page_size).lateral())  # fmt: skip
    return (
        select(picked.c.whole, array_agg(aggregate_order_by(first.c.id, first.c.id))[1:page_size])
        .select_from(picked).join(first, true()).where(picked.c.rank <= page_size)
        .group_by(picked.c.whole)
    )  # fmt: skip


def _layer_contents(
    session: Session, actor: Actor, src: Source, perimeter_id: int, kinds: Sequence[str],
    page_size: int, crs: CoordSystem,
) -> list[LayerContent]:  # fmt: skip
    found = [LayerContent(src.id, src.title) for _ in kinds]
    first: dict[int, list[int]] = defaultdict(list)
    whole = src.cell_counts is not None
    rows = _counted(session, src, ringed(src, perimeter_id, kinds, edges_only=whole), page_size)
    if whole:
        counts, firsts = _whole_cells(session, src, perimeter_id, page_size)
        rows += list(counts)
        for ring, ids in firsts:
            first[ring] += ids
    for row in rows:
        if row.ring is None:  # near the rings, in none of them
            continue
        content = found[row.ring]
        content.count += row.n
        for group in src.groups:
            counts = content.groups.setdefault(group.key, {})
            value = str(row._mapping[group.key])
            counts[value] = counts.get(value, 0) + row.n
        if page_size and "first" in row._fields:
            first[row.ring] += row.first
    pages = {ring: sorted(ids)[:page_size] for ring, ids in first.items()}
    shown = rows_of(session, actor, src.id, [i for ids in pages.values() for i in ids], crs)
    ring_of = {i: ring for ring, ids in pages.items() for i in ids}
    for row in shown:
        found[ring_of[row.id]].features.append(row)
    return found


def perimeter_contents(
    *, session: Session, perimeter_id: int, actor: Actor, layers: Sequence[str] = (),
    page_size: int, zone: Any, crs: CoordSystem = CoordSystem.WGS84,
) -> tuple[Perimeter, list[RingContent]]:  # fmt: skip
    """Return a perimeter and, per ring and layer, what the actor sees there in its window."""
    perimeter = read_perimeter(session=session, perimeter_id=perimeter_id, actor=actor)
    rings = rings_of(session, perimeter_id)
    kinds = [r.kind for r in rings]
    window = Window(perimeter.starts_at, perimeter.ends_at, zone)
    plain_plans(session)
    # the first ids of each ring and group come from sorting its ~100,000 units of a
    # district: in memory, not in files (the default 4 MB spills them)
    session.execute(select(func.set_config("work_mem", "32MB", True)))
    contents = [RingContent(RingKind(r.kind), RING_TITLES[RingKind(r.kind)], r.area_m2, {})
                for r in rings]  # fmt: skip
    for layer_id in check_layers(layers):
        src = source(layer_id, actor, window)
        found = _layer_contents(session, actor, src, perimeter_id, kinds, page_size, crs)
        for ring, content in zip(contents, found, strict=True):
            ring.layers[layer_id] = content
    return perimeter, contents


def _ids_in_rings(
    session: Session, actor: Actor, perimeter_id: int, layer_id: str, zone: Any,
    rings: Sequence[RingKind], limit: int,
) -> dict[RingKind, list[int]]:  # fmt: skip
    """Return up to ``limit + 1`` ids of a layer in ``rings`` (all when none), by ring and id."""
    perimeter = read_perimeter(session=session, perimeter_id=perimeter_id, actor=actor)
    kinds = [r.kind for r in rings_of(session, perimeter_id)]
    wanted = {k.value for k in rings} or set(kinds)
    missing = wanted - set(kinds)
    if missing:
        raise InvalidInput(f"perimeter {perimeter_id} has no ring {', '.join(sorted(missing))}")
    window = Window(perimeter.starts_at, perimeter.ends_at, zone)
    picked = [i for i, k in enumerate(kinds) if k in wanted]
    plain_plans(session)
    found = sorted(
        (ring, ident)
        for rows in ringed(source(layer_id, actor, window), perimeter_id, kinds)
        for ring, ident in session.connection().execute(
            select(rows.c.ring, rows.c.id).where(rows.c.ring.in_(picked)).limit(limit + 1)
        )
    )[: limit + 1]  # fmt: skip
    by_ring: dict[RingKind, list[int]] = {RingKind(kinds[i]): [] for i in picked}
    for ring, ident in found:
        by_ring[RingKind(kinds[ring])].append(ident)
    return by_ring


def ring_ids(
    *, session: Session, perimeter_id: int, actor: Actor, layer_id: str, zone: Any,
    rings: Sequence[RingKind] = (), limit: int,
) -> dict[RingKind, list[int]]:  # fmt: skip
    """Return the ids of a layer's features (or records) in each of ``rings`` (all when none).

    Raises ``InvalidInput`` when there are more than ``limit`` in all.
    """
    layer_id = check_layers([layer_id])[0]
    by_ring = _ids_in_rings(session, actor, perimeter_id, layer_id, zone, rings, limit)
    if sum(map(len, by_ring.values())) > limit:
        raise InvalidInput(f"the rings hold more than {limit:,} of layer {layer_id!r}; "
                           "choose fewer rings")  # fmt: skip
    return by_ring


@dataclass(frozen=True)
class ContentRow:
    """One feature (or record) of the contents, with its ring and layer."""

    ring: RingKind
    layer: str
    feature: FeatureRow


def content_rows(
    *, session: Session, perimeter_id: int, actor: Actor, layers: Sequence[str] = (),
    zone: Any, limit: int,
) -> list[ContentRow]:  # fmt: skip
    """Return every feature of the contents the actor sees, by ring, layer and id (to export).

    Raises ``InvalidInput`` when there are more than ``limit`` in all.
    """
    found: list[ContentRow] = []
    for layer_id in check_layers(layers):
        by_ring = _ids_in_rings(session, actor, perimeter_id, layer_id, zone, (),
                                limit - len(found))  # fmt: skip
        ring_of = {i: ring for ring, ids in by_ring.items() for i in ids}
        if len(found) + len(ring_of) > limit:
            raise InvalidInput(f"the contents hold more than {limit:,} features to export; "
                               "export fewer layers")  # fmt: skip
        rows = rows_of(session, actor, layer_id, list(ring_of), CoordSystem.WGS84)
        found += sorted((ContentRow(ring_of[r.id], layer_id, r) for r in rows),
                        key=lambda c: (RING_ORDER.index(c.ring), c.feature.id))  # fmt: skip
    return found
