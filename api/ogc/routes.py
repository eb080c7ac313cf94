"""OGC API – Features routes under ``/ogc``; bearer-token auth like every other route."""

from __future__ import annotations

import json
from datetime import UTC, datetime, tzinfo
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from api.access import FEATURE_READERS
from api.deps import (
    BBoxDep,
    CurrentActor,
    DatetimeDep,
    LimitDep,
    SessionDep,
    SettingsDep,
    extra_params,
)
from api.links import public_base, public_href
from api.ogc import documents
from api.ogc.html import render
from api.routes.features import to_public
from api.schemas.geojson import GeoJSONResponse, collection_text
from layers.accounts.scope import Actor
from layers.errors import InvalidInput
from layers.features.cql import cql2_clause
from layers.features.filters import parse_filters
from layers.features.query import FeatureQuery, list_features, parse_properties
from layers.features.registry import LayerSpec, all_layers, get_layer
from layers.features.service import get_feature
from layers.features.stats import layer_stats
from layers.features.timespan import temporal_extent

router = APIRouter(prefix="/ogc", tags=["ogc"], dependencies=[Depends(FEATURE_READERS)])

ITEM_PARAMS = frozenset({"bbox", "datetime", "limit", "properties", "cursor", "filter",
                         "filter-lang", "filter-crs", "f", "bbox-crs", "crs"})  # fmt: skip
OPENAPI = "application/vnd.oai.openapi+json"
SCHEMA = "application/schema+json"
FormatParam = Annotated[str | None, Query(pattern="^(json|html)$", description="json or html")]
_CRS84_NAMES = {documents.CRS84, "http://www.opengis.net/def/crs/EPSG/0/4326"}


def _answers(*media_types: str) -> dict[int | str, dict[str, Any]]:
    """Return the ``responses`` documenting the media types of a route's 200 besides JSON."""
    return {200: {"content": {media: {} for media in media_types}}}


def _base(request: Request) -> str:
    return public_base(request) + "/ogc"


def _html(request: Request, f: str | None) -> bool:
    if f is not None:
        return f == "html"
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "json" not in accept


def _answer(request: Request, f: str | None, document: dict[str, Any], title: str) -> Response:
    if _html(request, f):
        return render(document, title)
    return JSONResponse(document)


def collection_spec(collection_id: str) -> LayerSpec:
    """Return the layer behind the ``collection_id`` path parameter, or raise 404."""
    return get_layer(collection_id)


CollectionDep = Annotated[LayerSpec, Depends(collection_spec)]


@router.get("", responses=_answers(documents.HTML))
def read_landing(request: Request, actor: CurrentActor, f: FormatParam = None) -> Response:
    """Return the landing page."""
    return _answer(request, f, documents.landing(_base(request)), "Warroom OGC API")


@router.get("/conformance", responses=_answers(documents.HTML))
def read_conformance(request: Request, actor: CurrentActor, f: FormatParam = None) -> Response:
    """Return the conformance classes this service passes."""
    return _answer(request, f, {"conformsTo": documents.CONFORMANCE}, "Conformance")


@router.get("/api", responses=_answers(OPENAPI))
def read_api_definition(request: Request, actor: CurrentActor) -> Response:
    """Return the OpenAPI definition of the whole service."""
    return JSONResponse(request.app.openapi(), media_type=OPENAPI)


def _collection(
    base: str, spec: LayerSpec, session: Session, actor: Actor, zone: tzinfo
) -> dict[str, Any]:
    stats = layer_stats(session=session, spec=spec, actor=actor)
    times = temporal_extent(session=session, spec=spec, actor=actor, zone=zone)
    return documents.collection(base, spec, stats, times)


@router.get("/collections", responses=_answers(documents.HTML))
def list_collections(
    request: Request, session: SessionDep, actor: CurrentActor, settings: SettingsDep,
    f: FormatParam = None,
) -> Response:  # fmt: skip
    """Return every layer as a collection."""
    base = _base(request)
    collections = [_collection(base, spec, session, actor, settings.zone) for spec in all_layers()]
    links = [documents.link(f"{base}/collections", "self", documents.JSON)]
    return _answer(request, f, {"collections": collections, "links": links}, "Collections")


@router.get("/collections/{collection_id}", responses=_answers(documents.HTML))
def read_collection(
    spec: CollectionDep, request: Request, session: SessionDep, actor: CurrentActor,
    settings: SettingsDep, f: FormatParam = None,
) -> Response:  # fmt: skip
    """Return one collection."""
    document = _collection(_base(request), spec, session, actor, settings.zone)
    return _answer(request, f, document, spec.title)


@router.get("/collections/{collection_id}/queryables", responses=_answers(SCHEMA))
def read_queryables(spec: CollectionDep, request: Request, actor: CurrentActor) -> Response:
    """Return the JSON Schema of the properties usable in filters."""
    return JSONResponse(documents.queryables(_base(request), spec), media_type=SCHEMA)


def _where(spec: LayerSpec, cql: str | None, lang: str, crs: str | None) -> Any:
    clauses = []
    if cql:
        if crs is not None and crs not in _CRS84_NAMES:
            raise InvalidInput(f"filter-crs {crs!r} is not supported; use {documents.CRS84}")
        clauses.append(cql2_clause(spec, cql, lang))
    return tuple(clauses)


@router.get(
    "/collections/{collection_id}/items", responses=_answers(documents.GEOJSON, documents.HTML)
)
def list_items(
    spec: CollectionDep, request: Request, session: SessionDep, actor: CurrentActor,
    bbox: BBoxDep, interval: DatetimeDep, limit: LimitDep, f: FormatParam = None,
    properties: Annotated[str | None, Query(max_length=1000)] = None,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
    filter_: Annotated[str | None, Query(alias="filter", max_length=20_000)] = None,
    filter_lang: Annotated[str, Query(alias="filter-lang", max_length=20)] = "cql2-text",
    filter_crs: Annotated[str | None, Query(alias="filter-crs", max_length=200)] = None,
    bbox_crs: Annotated[str | None, Query(alias="bbox-crs", max_length=200)] = None,
    crs: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:  # fmt: skip
    """Return a page of items (GeoJSON or HTML) with ``next`` links; filters in CQL2."""
    for name, value in (("bbox-crs", bbox_crs), ("crs", crs)):
        if value is not None and value not in _CRS84_NAMES:
            raise InvalidInput(f"{name} {value!r} is not supported; use {documents.CRS84}")
    query = FeatureQuery(
        bbox=bbox, filters=parse_filters(spec, extra_params(request, ITEM_PARAMS)),
        interval=interval, where=_where(spec, filter_, filter_lang, filter_crs), limit=limit,
        cursor=cursor, properties=parse_properties(spec, properties),
    )  # fmt: skip
    page = list_features(session=session, spec=spec, actor=actor, query=query)
    self_href = public_href(request)
    links = [documents.link(self_href, "self", documents.GEOJSON),
             documents.link(f"{_base(request)}/collections/{spec.id}", "collection",
                            documents.JSON)]  # fmt: skip
    if page.next_cursor is not None:
        href = public_href(request, request.url.include_query_params(cursor=page.next_cursor))
        links.append(documents.link(href, "next", documents.GEOJSON, "next page"))
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    members: dict[str, Any] = {"links": links, "numberReturned": len(page.features),
                               "timeStamp": stamp}  # fmt: skip
    if page.next_cursor is None and cursor is None:  # the whole result is here: free to count
        members["numberMatched"] = len(page.features)
    body = collection_text(page.features, **members)
    if _html(request, f):
        return render(json.loads(body), spec.title)
    return GeoJSONResponse(body)


@router.get(
    "/collections/{collection_id}/items/{feature_id}",
    responses=_answers(documents.GEOJSON, documents.HTML),
)
def read_item(
    spec: CollectionDep, feature_id: int, request: Request, session: SessionDep,
    actor: CurrentActor, f: FormatParam = None,
) -> Response:  # fmt: skip
    """Return one item."""
    feature = get_feature(session=session, spec=spec, feature_id=feature_id, actor=actor)
    document = to_public(spec, feature).model_dump()
    href = f"{_base(request)}/collections/{spec.id}"
    document["links"] = [documents.link(f"{href}/items/{feature_id}", "self", documents.GEOJSON),
                         documents.link(href, "collection", documents.JSON)]  # fmt: skip
    if _html(request, f):
        return render(document, f"{spec.title} {feature_id}")
    return GeoJSONResponse(json.dumps(document, ensure_ascii=False),
                           headers={"ETag": f'"{feature.version}"'})  # fmt: skip
