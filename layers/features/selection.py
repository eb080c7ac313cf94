"""Map selections: features picked by id (clicks), a box, a lasso or a radius, over layers.

Each layer is filtered by its attributes as a feature listing is, within the actor's
jurisdiction; the answer is, per layer, the exact count and the ids (smallest first),
counted and gathered in one statement.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by, array_agg
from sqlalchemy.orm import Session

from layers.accounts.scope import Actor
from layers.errors import InvalidInput
from layers.features.filters import AttributeFilter, parse_filters
from layers.features.query import FeatureQuery, conditions, plain_plans
from layers.features.registry import LayerSpec, get_layer
from layers.features.spatial import Region, Relation, region_clause

MAX_IDS = 10_000  # ids given per layer, as clicks


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


def pick(*, session: Session, actor: Actor, selection: Selection, limit: int) -> list[Picked]:
    """Return, per selected layer, how many features the actor may see and the first ids."""
    specs = _checked(selection)
    filters: dict[str, tuple[AttributeFilter, ...]] = {
        spec.id: parse_filters(spec, selection.filters.get(spec.id, {})) for spec in specs
    }
    plain_plans(session)
    picked = []
    for spec in specs:
        query = FeatureQuery(filters=filters[spec.id], where=(_where(spec, selection),))
        ident = spec.model.id
        first = array_agg(aggregate_order_by(ident, ident))[1:limit]
        count, ids = (
            session.connection()
            .execute(select(func.count(), first).where(*conditions(spec, actor, query)))
            .one()
        )
        picked.append(Picked(spec.id, int(count), list(ids or [])))
    return picked
