"""Spatial questions: what is in this region, what is nearest, where is it dense."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from shapely.geometry import Point

from api.access import FEATURE_READERS
from api.bodies import JSONBody
from api.deps import BBoxDep, CrsDep, CurrentActor, LayerDep, SessionDep, SettingsDep, extra_params
from api.schemas.geojson import GeoJSONResponse, collection_pieces, collection_text
from api.schemas.spatial import SpatialQuery, to_wgs84
from api.slots import QuerySlotsDep
from geo import hexes
from layers.errors import InvalidInput
from layers.features.filters import parse_filters
from layers.features.near import nearest
from layers.features.query import (
    GEOJSON_DECIMALS,
    FeatureQuery,
    FeatureRow,
    geometries_in_crs,
    parse_properties,
)
from layers.features.registry import get_layer
from layers.features.spatial import (
    GrownLimits,
    hexbins,
    query_region,
    region_around,
    region_of,
)

router = APIRouter(tags=["spatial"], dependencies=[Depends(FEATURE_READERS)])


_QUERY = JSONBody(SpatialQuery)


@router.post("/api/spatial/query", response_class=GeoJSONResponse, openapi_extra=_QUERY.openapi)
def spatial_query(
    session: SessionDep, actor: CurrentActor, settings: SettingsDep, crs: CrsDep,
    slots: QuerySlotsDep, body: Annotated[SpatialQuery, Depends(_QUERY)],
) -> GeoJSONResponse:  # fmt: skip
    """Return, per layer, the exact count and the first ``limit`` features in the region.

    Around a point (``radius_m``) or a line (``buffer_m``) the test is geodesic (WGS84
    spheroid) and the features come **nearest first**, by geodesic distance and then
    id, each with ``distance_m``; inside a ``geometry`` they come by id. Coordinates
    are read and written in ``crs``. A line grown by ``buffer_m`` is limited in vertices
    and area (``WARROOM_LIMITS_QUERY_*``); a user runs a few queries at once (429).
    """
    specs = [get_layer(layer_id) for layer_id in body.layers]
    geom, distance_m = body.shape()
    geom = to_wgs84(geom, crs)
    max_vertices, limits = settings.features.max_vertices, settings.limits
    grown = GrownLimits(limits.query_max_vertices, limits.query_max_area_km2)
    region = (
        region_of(geom, max_vertices=max_vertices) if distance_m is None
        else region_around(geom, distance_m, max_vertices=max_vertices, grown=grown)
    )  # fmt: skip
    queries = [FeatureQuery(filters=parse_filters(spec, body.filters.get(spec.id, {})),
                            limit=body.limit, crs=crs) for spec in specs]  # fmt: skip
    pieces = [f'{{"relation":"{body.relation.value}","layers":{{'.encode()]
    with slots.hold(actor.username):  # a question refused above takes no slot
        for i, (spec, query) in enumerate(zip(specs, queries, strict=True)):
            count, features = query_region(session=session, spec=spec, actor=actor,
                                           region=region, relation=body.relation,
                                           query=query)  # fmt: skip
            pieces.append(f"{',' if i else ''}{json.dumps(spec.id)}:".encode())
            pieces += collection_pieces(features, count=count, truncated=count > body.limit)
    pieces.append(b"}}")
    return GeoJSONResponse(b"".join(pieces))


def _point(text: str) -> Point:
    try:
        lon, lat = (float(v) for v in text.split(","))
    except ValueError:
        raise InvalidInput(f"point must be lon,lat, got {text!r}") from None
    return Point(lon, lat)


NEAREST_RESERVED = frozenset({"point", "k", "crs", "properties"})
HEXBIN_RESERVED = frozenset({"bbox", "resolution", "sum", "crs"})


@router.get("/api/layers/{layer}/nearest", response_class=GeoJSONResponse)
def nearest_features(
    spec: LayerDep, request: Request, session: SessionDep, actor: CurrentActor,
    crs: CrsDep, point: Annotated[str, Query(max_length=100)],
    k: Annotated[int, Query(ge=1, le=1000)] = 10,
    properties: Annotated[str | None, Query(max_length=1000)] = None,
) -> GeoJSONResponse:  # fmt: skip
    """Return the ``k`` nearest features to ``point`` (lon,lat in ``crs``) with ``distance_m``."""
    target = to_wgs84(_point(point), crs)
    region_of(target, max_vertices=1)  # refuses a point outside China, saying why
    query = FeatureQuery(filters=parse_filters(spec, extra_params(request, NEAREST_RESERVED)),
                         crs=crs, properties=parse_properties(spec, properties))  # fmt: skip
    features = nearest(session=session, spec=spec, actor=actor, point=target, k=k, query=query)
    return GeoJSONResponse(collection_text(features, numberReturned=len(features)))


@lru_cache(maxsize=65_536)
def cell_geojson(cell: int) -> str:
    """Return the outline of an H3 cell as GeoJSON text to ~1 cm (cached: outlines never change)."""
    ring = [[round(lon, GEOJSON_DECIMALS), round(lat, GEOJSON_DECIMALS)]
            for lon, lat in hexes.cell_polygon(cell).exterior.coords]  # fmt: skip
    return json.dumps({"type": "Polygon", "coordinates": [ring]}, separators=(",", ":"))


def _bin_properties(cell: int, resolution: int, count: int, total: int | None) -> str:
    # Formatted by hand: json.dumps per cell costs ~6 µs, 30 ms for a city at resolution 7.
    # An H3 index string is the cell's lowercase hexadecimal.
    sum_text = "null" if total is None else str(total)
    return f'{{"h3":"{cell:x}","resolution":{resolution},"count":{count},"sum":{sum_text}}}'


@router.get("/api/layers/{layer}/hexbins", response_class=GeoJSONResponse)
def hexbin_features(
    spec: LayerDep, request: Request, session: SessionDep, actor: CurrentActor, bbox: BBoxDep,
    crs: CrsDep, resolution: Annotated[int, Query(ge=0, le=9)] = 7,
    sum: Annotated[str | None, Query(max_length=64, description="numeric attribute")] = None,
) -> GeoJSONResponse:  # fmt: skip
    """Return H3 cells with feature counts (and a sum) as GeoJSON polygons.

    A feature counts in the cell of its representative point; the stored
    resolution-9 cell is coarsened to ``resolution`` in SQL by bit masks.
    """
    filters = parse_filters(spec, extra_params(request, HEXBIN_RESERVED))
    query = FeatureQuery(bbox=bbox, filters=filters)
    bins = hexbins(session=session, spec=spec, actor=actor, resolution=resolution, query=query,
                   sum_of=sum)  # fmt: skip
    texts = geometries_in_crs([cell_geojson(b.cell) for b in bins], crs)
    rows = [
        FeatureRow(index, text, _bin_properties(b.cell, resolution, b.count, b.total))
        for index, (b, text) in enumerate(zip(bins, texts, strict=True), start=1)
    ]  # fmt: skip
    return GeoJSONResponse(collection_text(rows, numberReturned=len(rows)))
