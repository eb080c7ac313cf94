"""Nearest first: a KNN index scan bounds the answer, a geodesic re-rank orders it.

``<->`` on SRID 4326 orders by planar degrees, which is not metres. The ``k`` features it
returns first lie within a distance that bounds the true ``k`` nearest, so ranking only
the features in the box around it by ``ST_Distance`` on geography (the spheroid) gives
the exact answer from two index scans, without sorting every feature of a large region.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry
from sqlalchemy import ColumnElement, Float, func, select
from sqlalchemy.orm import Session

from layers.accounts.scope import Actor
from layers.features.distance import MAX_METRES_PER_DEGREE, metres_to, reach_box
from layers.features.filters import envelope
from layers.features.query import (
    FeaturePage,
    FeatureQuery,
    FeatureRow,
    conditions,
    literal_geometry,
    plain_plans,
    ranked_features,
)
from layers.features.registry import LayerSpec


def knn_bound(
    session: Session, spec: LayerSpec, clauses: Sequence[ColumnElement[bool]],
    centre: BaseGeometry, k: int,
) -> float | None:  # fmt: skip
    """Return metres within which the ``k`` features nearest to ``centre`` lie (None: none match).

    The first ``k`` in KNN order lie within some ``d`` planar degrees, so within
    ``d`` x 111,700 m geodesically, and the true ``k`` nearest under ``clauses`` no farther.
    """
    degrees = spec.model.geom.op("<->", return_type=Float)(literal_geometry(centre))  # type: ignore[attr-defined]
    knn = select(degrees.label("degrees")).where(*clauses).order_by(degrees).limit(k).subquery()
    plain_plans(session)
    farthest = session.scalar(select(func.max(knn.c.degrees)))
    return None if farthest is None else float(farthest) * MAX_METRES_PER_DEGREE


def ranked_page(
    *, session: Session, spec: LayerSpec, actor: Actor, centre: BaseGeometry, k: int,
    query: FeatureQuery, reach_m: float, where: Sequence[ColumnElement[bool]] = (),
    with_total: bool = False,
) -> FeaturePage:  # fmt: skip
    """Return the ``k`` features nearest to ``centre`` among those within ``reach_m``'s box.

    Geodesic distance then id decides the order; each feature carries ``distance_m``.
    ``reach_m`` must hold every feature the page can contain (``knn_bound`` finds it).
    ``with_total`` also counts every match, in the same scan.
    """
    model = spec.model
    metres = metres_to(spec, centre)
    box = model.geom.op("&&")(envelope(reach_box(centre, reach_m)))  # type: ignore[attr-defined]
    columns: list[Any] = [model.id.label("fid"), metres.label("metres")]
    if with_total:
        columns.append(func.count().over().label("total"))
    ranked = (
        select(*columns).where(*conditions(spec, actor, query, session), box, *where)
        .order_by(metres, model.id).limit(k).subquery()
    )  # fmt: skip
    return ranked_features(session=session, spec=spec, query=query, ranked=ranked)


def nearest(
    *, session: Session, spec: LayerSpec, actor: Actor, point: Point, k: int, query: FeatureQuery
) -> list[FeatureRow]:
    """Return the ``k`` features geodesically nearest to ``point``, nearest first."""
    bound = knn_bound(session, spec, conditions(spec, actor, query, session), point, k)
    if bound is None:
        return []
    return ranked_page(session=session, spec=spec, actor=actor, centre=point, k=k, query=query,
                       reach_m=bound).features  # fmt: skip
