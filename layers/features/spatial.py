"""Spatial questions: what lies in a region (counted, nearest first around a centre), H3 density."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry
from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.orm import Session

from geo import measure, validate
from layers.accounts.roles import Permission
from layers.accounts.scope import Actor
from layers.errors import InvalidInput
from layers.features import hexagg, hexdisc
from layers.features.distance import reach_box, within_m
from layers.features.filters import envelope
from layers.features.near import knn_bound, ranked_page
from layers.features.query import (
    FeatureQuery,
    FeatureRow,
    conditions,
    count_features,
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


@dataclass(frozen=True)
class GrownLimits:
    """How large a line or shape grown by a distance may be, to bound what its question costs.

    Every feature near it is measured against each of its segments, and how many
    features are near grows with its area: a 10,000-vertex line grown by 50 km held a
    connection for the whole statement timeout.
    """

    max_vertices: int
    max_area_km2: float


def _check_vertices(centre: BaseGeometry, limits: GrownLimits) -> None:
    vertices = len(shapely.get_coordinates(centre))
    if vertices > limits.max_vertices:
        raise InvalidInput(
            f"a {centre.geom_type} grown by a distance may have at most {limits.max_vertices:,} "
            f"vertices; this one has {vertices:,}: simplify it"
        )


def _check_area(centre: BaseGeometry, area: BaseGeometry, limits: GrownLimits) -> None:
    area_km2 = measure.area_m2(area) / 1e6
    if area_km2 > limits.max_area_km2:
        raise InvalidInput(
            f"the region around this {centre.geom_type} covers {area_km2:,.0f} km², more than "
            f"the limit of {limits.max_area_km2:,.0f} km²: narrow it (a shorter line or a "
            "smaller distance)"
        )


def region_around(
    geom: BaseGeometry, distance_m: float, *, max_vertices: int, grown: GrownLimits | None = None
) -> Region:
    """Return the region within ``distance_m`` metres (geodesic) of a point or line.

    A line or shape (not a point) must also keep within ``grown``, if given.
    """
    if not 0 < distance_m <= MAX_DISTANCE_M:
        raise InvalidInput(f"distance must be between 0 and {MAX_DISTANCE_M:g} m, got {distance_m}")
    centre = _checked(geom, max_vertices)
    if grown is None or isinstance(centre, Point):
        return Region(measure.buffer_m(centre, distance_m), centre, distance_m)
    _check_vertices(centre, grown)  # before paying for the buffer
    area = measure.buffer_m(centre, distance_m)
    _check_area(centre, area, grown)
    return Region(area, centre, distance_m)


def near_clause(spec: LayerSpec, centre: BaseGeometry, distance_m: float) -> ColumnElement[bool]:
    """Return "the feature lies within ``distance_m`` of ``centre``" (geodesic, exact).

    ``ST_DWithin`` on geography (the spheroid), prefiltered by the box around the
    distance so the GiST index is used.
    """
    box = envelope(reach_box(centre, distance_m))
    return and_(spec.model.geom.op("&&")(box), within_m(spec, centre, distance_m))  # type: ignore[attr-defined]


def region_clause(spec: LayerSpec, region: Region, relation: Relation) -> ColumnElement[bool]:
    """Return "the feature intersects / lies within ``region``".

    Around a point or line, "intersects" is the exact geodesic ``near_clause``.
    """
    geom = spec.model.geom  # type: ignore[attr-defined]
    if relation is Relation.WITHIN:
        return func.ST_Within(geom, literal_geometry(region.area))
    if region.centre is None or region.distance_m is None:
        return func.ST_Intersects(geom, literal_geometry(region.area))
    return near_clause(spec, region.centre, region.distance_m)


def query_region(
    *, session: Session, spec: LayerSpec, actor: Actor, region: Region, relation: Relation,
    query: FeatureQuery,
) -> tuple[int, list[FeatureRow]]:  # fmt: skip
    """Return how many features of ``spec`` relate to ``region``, and the first ``limit``.

    Around a point or line they come nearest first (geodesic distance, then id) with
    ``distance_m``; in a polygon by id.
    """
    clause = region_clause(spec, region, relation)
    scoped = replace(query, where=(*query.where, clause))
    centre, distance_m = region.centre, region.distance_m
    if centre is None or distance_m is None:
        page = list_features(session=session, spec=spec, actor=actor,
                             query=replace(scoped, with_total=query.limit > 0))  # fmt: skip
        if page.total is None:
            return count_features(session=session, spec=spec, actor=actor, query=scoped), []
        return page.total, page.features
    if not query.limit:
        return _count_near(session, spec, actor, region, relation, query, clause), []
    if relation is not Relation.INTERSECTS or not isinstance(centre, Point) or _narrowed(query):
        # Filters thin the circle out, a line's nearest spread all along it and "within"
        # does not grow with distance: a KNN bound would not shrink the box to rank, so
        # one scan of it counts and ranks.
        page = ranked_page(session=session, spec=spec, actor=actor, centre=centre,
                           k=query.limit, query=query, reach_m=distance_m, where=(clause,),
                           with_total=True)  # fmt: skip
        return page.total or 0, page.features
    total = _count_near(session, spec, actor, region, relation, query, clause)
    reach: float | None = distance_m
    if total > query.limit:
        # "within d" grows with distance, so the k nearest that lie within d are the
        # k nearest overall: the KNN bound shrinks the box to rank (None: all deleted since)
        bound = knn_bound(
            session, spec, conditions(spec, actor, query, session), centre, query.limit
        )
        reach = None if bound is None else min(distance_m, bound)
    if not total or reach is None:
        return total, []
    nearest_first = ranked_page(session=session, spec=spec, actor=actor, centre=centre,
                                k=query.limit, query=query, reach_m=reach,
                                where=(clause,))  # fmt: skip
    return total, nearest_first.features


def _count_near(
    session: Session, spec: LayerSpec, actor: Actor, region: Region, relation: Relation,
    query: FeatureQuery, clause: ColumnElement[bool],
) -> int:  # fmt: skip
    """Count what meets ``clause`` around a point or line: from stored hex counts if they can."""
    centre, distance_m = region.centre, region.distance_m
    if (relation is Relation.INTERSECTS and isinstance(centre, Point) and distance_m is not None
            and not _narrowed(query)):  # fmt: skip
        stored = hexdisc.count_within(session=session, spec=spec, scope=actor.scope,
                                      centre=centre, radius_m=distance_m,
                                      where=conditions(spec, actor, query, session))  # fmt: skip
        if stored is not None:
            return stored
    scoped = replace(query, where=(*query.where, clause))
    return count_features(session=session, spec=spec, actor=actor, query=scoped)


@dataclass(frozen=True)
class HexBin:
    """One H3 cell: how many features have their representative point in it, and a sum."""

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
        statement = _counted_bins(session, spec, actor, resolution, query, sum_of)
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
    session: Session, spec: LayerSpec, actor: Actor, resolution: int, query: FeatureQuery,
    sum_of: str | None,
) -> Select[Any]:  # fmt: skip
    """Return the bins counted from the features, by the cell holding each one's point."""
    model = spec.model
    cell = hexagg.cell_at(model, resolution).label("cell")
    columns: list[Any] = [cell, func.count().label("n")]
    if sum_of is not None:
        columns.append(func.coalesce(func.sum(getattr(model, sum_of)), 0).label("total"))
    return (
        select(*columns)
        .where(*conditions(spec, actor, query, session), model.h3_cell.is_not(None))
        .group_by(cell)
    )  # fmt: skip
