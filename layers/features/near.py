"""Nearest first: a KNN index scan bounds the answer, a geodesic re-rank orders it.

``<->`` on SRID 4326 orders by planar degrees, which is not metres. The ``k`` features it
returns first have a farthest geodesic distance that bounds the true ``k`` nearest, so
ranking only the features in the box around that distance by ``ST_Distance`` on
geography (the spheroid) gives the exact answer from two index scans, without sorting
every feature of a large region.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from geo import measure
from layers.accounts.scope import Actor
from layers.features.filters import BBox, envelope
from layers.features.query import (
    FeatureQuery,
    FeatureRow,
    conditions,
    geography,
    literal_geometry,
    plain_plans,
    ranked_features,
)
from layers.features.registry import LayerSpec

# A buffer's polygon has its vertices at the distance and its chords up to 0.12 % inside.
_BUFFER_SLACK = 1.01


@lru_cache(maxsize=256)  # a request asks for the same box up to three times
def reach_box(centre: BaseGeometry, distance_m: float) -> BBox:
    """Return a WGS84 box holding everything within ``distance_m`` (geodesic) of ``centre``."""
    if isinstance(centre, Point):
        return measure.bbox_around_m(centre.x, centre.y, distance_m)
    minx, miny, maxx, maxy = measure.buffer_m(centre, distance_m * _BUFFER_SLACK).bounds
    return (minx, miny, maxx, maxy)


def _metres(spec: LayerSpec, centre: BaseGeometry) -> ColumnElement[float]:
    target = geography(literal_geometry(centre))
    return func.ST_Distance(geography(spec.model.geom), target)  # type: ignore[attr-defined]


def within_m(spec: LayerSpec, centre: BaseGeometry, distance_m: float) -> ColumnElement[bool]:
    """Return the exact test "within ``distance_m`` of ``centre``": ``ST_DWithin`` on geography.

    Alone it cannot use the GiST index of ``geom``; AND it with a box where that is wanted.
    """
    geom = geography(spec.model.geom)  # type: ignore[attr-defined]
    return func.ST_DWithin(geom, geography(literal_geometry(centre)), distance_m)


def knn_bound(
    session: Session, spec: LayerSpec, clauses: Sequence[ColumnElement[bool]],
    centre: BaseGeometry, k: int,
) -> float | None:  # fmt: skip
    """Return the farthest geodesic distance of the first ``k`` features in KNN order.

    The true ``k`` nearest under ``clauses`` all lie within it; None when none match.
    """
    order = spec.model.geom.op("<->")(literal_geometry(centre))  # type: ignore[attr-defined]
    knn = select(_metres(spec, centre).label("metres")).where(*clauses).order_by(order).limit(k)
    plain_plans(session)
    bound = session.scalar(select(func.max(knn.subquery().c.metres)))
    return None if bound is None else float(bound)


def ranked_page(
    *, session: Session, spec: LayerSpec, actor: Actor, centre: BaseGeometry, k: int,
    query: FeatureQuery, reach_m: float, where: Sequence[ColumnElement[bool]] = (),
) -> list[FeatureRow]:  # fmt: skip
    """Return the ``k`` features nearest to ``centre`` among those within ``reach_m``'s box.

    Geodesic distance then id decides the order; each feature carries ``distance_m``.
    ``reach_m`` must hold every feature the page can contain (``knn_bound`` finds it).
    """
    model = spec.model
    metres = _metres(spec, centre)
    box = model.geom.op("&&")(envelope(reach_box(centre, reach_m)))  # type: ignore[attr-defined]
    ranked = (
        select(model.id.label("fid"), metres.label("metres"))
        .where(*conditions(spec, actor, query), box, *where)
        .order_by(metres, model.id).limit(k).subquery()
    )  # fmt: skip
    return ranked_features(session=session, spec=spec, query=query, ranked=ranked)


def nearest(
    *, session: Session, spec: LayerSpec, actor: Actor, point: Point, k: int, query: FeatureQuery
) -> list[FeatureRow]:
    """Return the ``k`` features geodesically nearest to ``point``, nearest first."""
    bound = knn_bound(session, spec, conditions(spec, actor, query), point, k)
    if bound is None:
        return []
    return ranked_page(session=session, spec=spec, actor=actor, centre=point, k=k, query=query,
                       reach_m=bound + 1.0)  # fmt: skip
