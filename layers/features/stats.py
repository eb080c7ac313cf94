"""Size and extent of a layer as a given actor sees it; cheap on big tables."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from layers.accounts.roles import Permission
from layers.accounts.scope import Actor, ScopeKind
from layers.features.registry import LayerSpec

EXACT_COUNT_BELOW = 200_000


@dataclass(frozen=True)
class LayerStats:
    """How many features a layer holds and where they are."""

    count: int
    count_is_estimate: bool
    extent: tuple[float, float, float, float] | None


def _estimated_rows(session: Session, table: str) -> int:
    rows = session.scalar(
        text("SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(:t)"), {"t": table}
    )
    return max(int(rows or 0), 0)


def layer_stats(*, session: Session, spec: LayerSpec, actor: Actor) -> LayerStats:
    """Return the feature count (estimated above 200,000 rows) and extent for ``actor``."""
    actor.require(Permission.FEATURES_READ)
    model = spec.model
    citywide = actor.scope.kind is ScopeKind.CITY
    estimate = _estimated_rows(session, spec.table)
    if citywide and estimate >= EXACT_COUNT_BELOW:
        box = session.execute(
            text("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
                 "FROM ST_EstimatedExtent(:t, 'geom') AS e"),
            {"t": spec.table},
        ).one()  # fmt: skip
        extent = None if box[0] is None else (box[0], box[1], box[2], box[3])
        return LayerStats(estimate, True, extent)
    scoped = select(model.geom).where(actor.scope.clause(model)).subquery()  # type: ignore[attr-defined]
    extent_q = func.ST_Extent(scoped.c.geom)
    row = session.execute(
        select(func.count(), func.ST_XMin(extent_q), func.ST_YMin(extent_q),
               func.ST_XMax(extent_q), func.ST_YMax(extent_q)).select_from(scoped)
    ).one()  # fmt: skip
    extent = None if row[1] is None else (row[1], row[2], row[3], row[4])
    return LayerStats(int(row[0]), False, extent)
