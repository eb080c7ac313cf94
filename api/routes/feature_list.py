"""List a layer's features: bbox, attribute filters, name search, sort, keyset pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from api.access import FEATURE_READERS
from api.deps import (
    BBoxDep,
    CrsDep,
    CurrentActor,
    DatetimeDep,
    LayerDep,
    LimitDep,
    SessionDep,
    extra_params,
)
from api.links import public_href
from api.schemas.geojson import GEOJSON, GeoJSONResponse, collection_text
from layers.features.filters import parse_filters
from layers.features.query import (
    FeatureQuery,
    list_features,
    parse_properties,
    parse_sort,
)

router = APIRouter(
    prefix="/api/layers/{layer}/features",
    tags=["features"],
    dependencies=[Depends(FEATURE_READERS)],
)

RESERVED = frozenset({"bbox", "datetime", "limit", "cursor", "q", "sort", "properties", "crs"})
QText = Annotated[str | None, Query(max_length=200)]


def next_link(request: Request, cursor: str | None) -> list[dict[str, str]]:
    """Return the ``next`` link of a page (none on the last page)."""
    if cursor is None:
        return []
    href = public_href(request, request.url.include_query_params(cursor=cursor))
    return [{"rel": "next", "type": GEOJSON, "href": href}]


@router.get("", response_class=GeoJSONResponse)
def list_features_route(
    spec: LayerDep, request: Request, session: SessionDep, actor: CurrentActor, bbox: BBoxDep,
    interval: DatetimeDep, limit: LimitDep, crs: CrsDep, q: QText = None, sort: QText = None,
    properties: QText = None,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> GeoJSONResponse:  # fmt: skip
    """Return a page of features as a GeoJSON FeatureCollection with a ``next`` link.

    Any other query parameter filters by attribute: ``category=school``,
    ``category=school,bank``, ``risk_level=3..4``, ``occurred_at=2026-11-01..``;
    ``datetime`` keeps the features whose time (the registry's) meets it, as in OGC.
    """
    query = FeatureQuery(
        bbox=bbox, filters=parse_filters(spec, extra_params(request, RESERVED)), q=q or None,
        interval=interval,
        sort=parse_sort(spec, sort), limit=limit, cursor=cursor,
        properties=parse_properties(spec, properties), crs=crs,
    )  # fmt: skip
    page = list_features(session=session, spec=spec, actor=actor, query=query)
    links = next_link(request, page.next_cursor)
    body = collection_text(page.features, numberReturned=len(page.features), links=links,
                           next=page.next_cursor)  # fmt: skip
    return GeoJSONResponse(body)
