"""Map selections: features picked by id (clicks), a box, a lasso or a radius, over layers.

Each layer is filtered by its attributes as a feature listing is, within the actor's
jurisdiction; the answer is, per layer, the exact count and the ids (smallest first),
counted and gathered in one statement.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy import BigInteger, ColumnElement, SmallInteger, and_, case, cast, func, select, true
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by, array_agg
from sqlalchemy.orm import Session

from geo import measure
from geo.hexrings import ring_cells
from layers.accounts.scope import Actor
from layers.errors import InvalidInput
from layers.features.filters import AttributeFilter, parse_filters
from layers.features.query import FeatureQuery, conditions, literal_geometry, plain_plans
from layers.features.registry import LayerSpec, get_layer
from layers.features.spatial import Region, Relation, region_clause

MAX_IDS = 10_000  # ids given per layer, as clicks
MAX_CELLED_M2 = 200e6


@dataclass(frozen=True)
class Selection:
    """What an officer picked: ``ids`` per layer, or everything in ``region``, in ``layers``.

    ``filters`` per layer narrow either (``{"units": {"category": "hotel"}}``).
    """

    layers: tuple[str, ...]
    region: Region | None = None
    ids: Mapping[str, Sequence[int]] = field(default_factory=dict)
    filters: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Picked:
    """One layer of a selection: how many features, and the first ``limit`` ids."""

    layer: str
    count: int
    ids: list[int]

    @property
    def truncated(self) -> bool:
        """Return whether there are more features than ids."""
        return self.count > len(self.ids)


def _checked(selection: Selection) -> list[LayerSpec]:
    specs = [get_layer(layer) for layer in dict.fromkeys(selection.layers)]
    if not specs:
        raise InvalidInput("a selection needs at least one layer")
    if (selection.region is None) == (not selection.ids):
        raise InvalidInput("select by ids, or by a region (box, lasso or radius): one of them")
    for name in (*selection.ids, *selection.filters):
        if name not in selection.layers:
            raise InvalidInput(f"ids or filters name layer {name!r}, which is not selected")
    for layer, ids in selection.ids.items():
        if len(ids) > MAX_IDS:
            raise InvalidInput(f"at most {MAX_IDS:,} ids a layer; {layer!r} has {len(ids):,}")
    return specs


def _where(spec: LayerSpec, selection: Selection) -> ColumnElement[bool]:
    if selection.region is not None:
        return region_clause(spec, selection.region, Relation.INTERSECTS)
    return spec.model.id.in_(list(selection.ids.get(spec.id, ())))


def _celled(spec: LayerSpec, selection: Selection) -> BaseGeometry | None:
    """Return the area of a box or lasso to read a point layer's features in, cell by cell.

    None: by ids, around a point (a geodesic test), or over a larger area (the cells
    would cost more to work out than they save).
    """
    region = selection.region
    if spec.geometry_type != "Point" or region is None or region.centre is not None:
        return None
    return region.area if measure.area_m2(region.area) <= MAX_CELLED_M2 else None


def _parts(spec: LayerSpec, selection: Selection) -> list[tuple[Any, ColumnElement[bool]]]:
    """Return (FROM, WHERE) pairs whose features together are the layer's selected ones.

    A box or lasso over a point layer is read through the H3 cells it covers
    (``geo.hexrings``): the features of a cell wholly inside it need no test, those of
    its edge cells are tested, those without a cell are found by their geometry.
    """
    model, where = spec.model, _where(spec, selection)
    area = _celled(spec, selection)
    if area is None:
        return [(model, where)]
    found = ring_cells([area])
    cells = select(
        func.unnest(cast(found.cells.tolist(), ARRAY(BigInteger))).label("cell"),
        func.unnest(cast(found.whole.tolist(), ARRAY(SmallInteger))).label("whole"),
    ).subquery()
    test = func.ST_Intersects(literal_geometry(area), model.geom)  # type: ignore[attr-defined]
    inside = case((cells.c.whole == 0, true()), else_=test)  # a CASE: no geometry index scan
    by_cell = cells.join(model, model.h3_cell == cells.c.cell)
    return [(by_cell, inside), (model, and_(model.h3_cell.is_(None), where))]


def pick(*, session: Session, actor: Actor, selection: Selection, limit: int) -> list[Picked]:
    """Return, per selected layer, how many features the actor may see and the first ids."""
    specs = _checked(selection)
    filters: dict[str, tuple[AttributeFilter, ...]] = {
        spec.id: parse_filters(spec, selection.filters.get(spec.id, {})) for spec in specs
    }
    plain_plans(session)
    picked = []
    for spec in specs:
        clauses = conditions(spec, actor, FeatureQuery(filters=filters[spec.id]))
        ident = spec.model.id
        first = array_agg(aggregate_order_by(ident, ident))[1:limit]
        count, ids = 0, list[int]()
        for source, where in _parts(spec, selection):
            statement = select(func.count(), first).select_from(source).where(*clauses, where)
            n, some = session.connection().execute(statement).one()
            count, ids = count + int(n), sorted([*ids, *(some or [])])[:limit]
        picked.append(Picked(spec.id, count, ids))
    return picked
