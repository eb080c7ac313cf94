"""Spatial questions: what lies in a region, the k nearest features, H3 density."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry
from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from geo import measure, validate
from layers.accounts.scope import Actor
from layers.errors import InvalidInput
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
MAX_HEXBIN_RESOLUTION = 9  # the stored h3_cell is resolution 9
_H3_RES_SHIFT = 52
_H3_RES_BITS = 0xF << _H3_RES_SHIFT
_H3_INDEX_BITS = (1 << 63) - 1  # bit 63 is always 0 in a cell index


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


def parent_masks(resolution: int) -> tuple[int, int]:
    """Return ``(clear, set)`` masks so ``(cell & clear) | set`` is the parent at ``resolution``.

    An H3 index keeps its resolution in bits 52-55 and one 3-bit digit per finer
    resolution below; a parent has the coarser resolution and digits 7 ("unused").
    """
    unused_digits = (1 << (3 * (15 - resolution))) - 1
    clear = _H3_INDEX_BITS & ~(_H3_RES_BITS | unused_digits)
    return clear, (resolution << _H3_RES_SHIFT) | unused_digits


def hexbins(
    *, session: Session, spec: LayerSpec, actor: Actor, resolution: int, query: FeatureQuery,
    sum_of: str | None = None,
) -> list[HexBin]:  # fmt: skip
    """Count features per H3 cell at ``resolution`` (0-9), grouping in SQL by bit masks."""
    if not 0 <= resolution <= MAX_HEXBIN_RESOLUTION:
        raise InvalidInput(f"resolution must be 0..{MAX_HEXBIN_RESOLUTION}, got {resolution}")
    model = spec.model
    clear, set_ = parent_masks(resolution)
    cell = model.h3_cell.bitwise_and(clear).bitwise_or(set_).label("cell")
    columns: list[Any] = [cell, func.count().label("n")]
    if sum_of is not None:
        if spec.attribute(sum_of).type is not AttrType.INTEGER:
            raise InvalidInput(f"sum needs a numeric attribute; {sum_of!r} is not one")
        columns.append(func.coalesce(func.sum(getattr(model, sum_of)), 0).label("total"))
    plain_plans(session, parallel=True)  # a city-wide aggregate is what workers are for
    statement = (
        select(*columns)
        .where(*conditions(spec, actor, query), model.h3_cell.is_not(None))
        .group_by(cell)
    )  # fmt: skip
    return [
        HexBin(int(row.cell), int(row.n), int(row.total) if sum_of is not None else None)
        for row in session.execute(statement).all()
    ]
