"""Spatial questions: what lies in a region, the k nearest features, H3 density."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry
from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.orm import Session

from geo import measure, validate
from layers.accounts.roles import Permission
from layers.accounts.scope import Actor
from layers.errors import InvalidInput
from layers.features import hexagg
from layers.features.filters import envelope
from layers.features.query import (
    FeaturePage,
    FeatureQuery,
    conditions,
    count_features,
    geography,
    list_features,
    literal_geometry,
    plain_plans,
)
from layers.features.registry import AttrType, LayerSpec

MAX_DISTANCE_M = 50_000.0
MAX_HEXBIN_RESOLUTION = hexagg.FINEST


class Relation(StrEnum):
    """How a feature must relate to the region asked about."""

    INTERSECTS = "intersects"
    WITHIN = "within"


@dataclass(frozen=True)
class Region:
    """An area in WGS84; for point/line questions also the shape and metres it grew from."""

    area: BaseGeometry
    centre: BaseGeometry | None = None
    distance_m: float | None = None


def _checked(geom: BaseGeometry, max_vertices: int) -> BaseGeometry:
    try:
        if geom.geom_type in ("Polygon", "MultiPolygon"):
            geom = validate.repair_geometry(geom)
        return validate.validate_geometry(geom, max_vertices=max_vertices)
    except validate.GeometryError as exc:
        raise InvalidInput(f"invalid geometry: {exc}") from exc


def region_of(geom: BaseGeometry, *, max_vertices: int) -> Region:
    """Return the region of a client geometry; invalid polygons are repaired (made valid)."""
    return Region(_checked(geom, max_vertices))


def region_around(geom: BaseGeometry, distance_m: float, *, max_vertices: int) -> Region:
    """Return the region within ``distance_m`` metres (geodesic) of a point or line."""
    if not 0 < distance_m <= MAX_DISTANCE_M:
        raise InvalidInput(f"distance must be between 0 and {MAX_DISTANCE_M:g} m, got {distance_m}")
    centre = _checked(geom, max_vertices)
    return Region(measure.buffer_m(centre, distance_m), centre, distance_m)


def region_clause(spec: LayerSpec, region: Region, relation: Relation) -> ColumnElement[bool]:
    """Return "the feature intersects / lies within ``region``".

    Around a point or line, "intersects" is an exact geodesic ``ST_DWithin`` on
    geography, prefiltered by the buffer's box so the GiST index is used.
    """
    geom = spec.model.geom  # type: ignore[attr-defined]
    if relation is Relation.WITHIN:
        return func.ST_Within(geom, literal_geometry(region.area))
    if region.centre is None or region.distance_m is None:
        return func.ST_Intersects(geom, literal_geometry(region.area))
    near = func.ST_DWithin(geography(geom), geography(literal_geometry(region.centre)),
                           region.distance_m)  # fmt: skip
    return and_(geom.op("&&")(envelope(region.area.bounds)), near)


def query_region(
    *, session: Session, spec: LayerSpec, actor: Actor, region: Region, relation: Relation,
    query: FeatureQuery,
) -> tuple[int, FeaturePage]:  # fmt: skip
    """Return how many features of ``spec`` relate to ``region``, and the first page of them."""
    scoped = replace(query, where=(*query.where, region_clause(spec, region, relation)),
                     distance_to=region.centre, with_total=query.limit > 0)  # fmt: skip
    page = list_features(session=session, spec=spec, actor=actor, query=scoped)
    if page.total is None:
        return count_features(session=session, spec=spec, actor=actor, query=scoped), page
    return page.total, page


def nearest(
    *, session: Session, spec: LayerSpec, actor: Actor, point: Point, k: int, query: FeatureQuery
) -> FeaturePage:
    """Return the ``k`` features geodesically nearest to ``point``, nearest first.

    ``<->`` on SRID 4326 orders by planar degrees, which is not metres. The KNN index
    scan finds ``k`` candidates whose farthest geodesic distance bounds the answer;
    a second index query over that circle's box then ranks by true geodesic distance.
    """
    model = spec.model
    clauses = conditions(spec, actor, query)
    target = literal_geometry(point)
    distance = func.ST_Distance(geography(model.geom), geography(target))  # type: ignore[attr-defined]
    plain_plans(session)
    knn = select(distance).where(*clauses).order_by(model.geom.op("<->")(target)).limit(k)  # type: ignore[attr-defined]
    bound = max(session.scalars(knn).all(), default=None)
    if bound is None:
        return FeaturePage([], None)
    box = measure.bbox_around_m(point.x, point.y, float(bound) + 1.0)
    ranked = (
        select(model.id).where(*clauses, model.geom.op("&&")(envelope(box)))  # type: ignore[attr-defined]
        .order_by(distance, model.id).limit(k)
    )  # fmt: skip
    ids = list(session.scalars(ranked).all())
    page = list_features(session=session, spec=spec, actor=actor, query=replace(
        query, where=(*query.where, model.id.in_(ids)), distance_to=point, limit=k, cursor=None,
    ))  # fmt: skip
    order = {feature_id: i for i, feature_id in enumerate(ids)}
    return FeaturePage(sorted(page.features, key=lambda f: order[f.id]), None)


@dataclass(frozen=True)
class HexBin:
    """One H3 cell: how many features have their centre cell in it, and a sum."""

    cell: int
    count: int
    total: int | None


def hexbins(
    *, session: Session, spec: LayerSpec, actor: Actor, resolution: int, query: FeatureQuery,
    sum_of: str | None = None,
) -> list[HexBin]:  # fmt: skip
    """Count features per H3 cell at ``resolution`` (0-9), from stored counts when they can."""
    if not 0 <= resolution <= MAX_HEXBIN_RESOLUTION:
        raise InvalidInput(f"resolution must be 0..{MAX_HEXBIN_RESOLUTION}, got {resolution}")
    if sum_of is not None and spec.attribute(sum_of).type is not AttrType.INTEGER:
        raise InvalidInput(f"sum needs a numeric attribute; {sum_of!r} is not one")
    statement = _stored_bins(session, spec, actor, resolution, query, sum_of)
    if statement is None:
        statement = _counted_bins(spec, actor, resolution, query, sum_of)
        plain_plans(session, parallel=True)  # a city-wide aggregate is what workers are for
    return [
        HexBin(int(row.cell), int(row.n), int(row.total) if sum_of is not None else None)
        for row in session.execute(statement).all()
    ]


def _stored_bins(
    session: Session, spec: LayerSpec, actor: Actor, resolution: int, query: FeatureQuery,
    sum_of: str | None,
) -> Select[Any] | None:  # fmt: skip
    """Return the bins from the stored hex counts, or None when they cannot answer.

    They hold neither attributes nor geometry, so any filter, box or search (and a
    unit user's single unit) is answered from the features themselves.
    """
    actor.require(Permission.FEATURES_READ)
    where = hexagg.scope_clause(actor.scope)
    if where is None or not hexagg.aggregated(spec) or _narrowed(query):
        return None
    hexagg.ensure_fresh(session, spec)
    return hexagg.stored_bins(spec, resolution, where, sum_of)


def _narrowed(query: FeatureQuery) -> bool:
    return bool(query.bbox is not None or query.filters or query.q or query.where)


def _counted_bins(
    spec: LayerSpec, actor: Actor, resolution: int, query: FeatureQuery, sum_of: str | None
) -> Select[Any]:
    """Return the bins counted from the features, grouping ``h3_cell`` by bit masks."""
    model = spec.model
    cell = hexagg.parent_cell(model.h3_cell, resolution).label("cell")
    columns: list[Any] = [cell, func.count().label("n")]
    if sum_of is not None:
        columns.append(func.coalesce(func.sum(getattr(model, sum_of)), 0).label("total"))
    return (
        select(*columns)
        .where(*conditions(spec, actor, query), model.h3_cell.is_not(None))
        .group_by(cell)
    )  # fmt: skip
