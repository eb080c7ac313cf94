"""Mapbox Vector Tiles and their TileJSON; tiles carry strong ETags and are cached.

An empty tile (nothing visible there, or every layer outside its zoom range) is
``204 No Content``; a malformed or out-of-range z/x/y is ``400``.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import JSONResponse

from api.deps import CurrentActor, SessionDep
from tiles.cache import EncodedTile
from tiles.render import layer_filters, parse_layers, parse_tile
from tiles.service import read_tile
from tiles.tilejson import tilejson, visible_bounds

router = APIRouter(prefix="/tiles", tags=["tiles"])

MVT_MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
FilterQuery = Query(
    default=None,
    alias="filter",
    description="CQL2 text applied to every layer, e.g. risk_level >= 3",
)


def _accepts_gzip(accept_encoding: str | None) -> bool:
    for part in (accept_encoding or "").split(","):
        coding, _, params = part.partition(";")
        if coding.strip().lower() not in ("gzip", "*"):
            continue
        weight = params.strip().lower()
        try:
            return float(weight.removeprefix("q=")) > 0 if weight.startswith("q=") else True
        except ValueError:
            return False
    return False


def _matches(if_none_match: str | None, etag: str) -> bool:
    if if_none_match is None:
        return False
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in tags or etag in tags


def tile_response(
    tile: EncodedTile, if_none_match: str | None, accept_encoding: str | None
) -> Response:
    """Return the HTTP response of an encoded tile: 304, 204, or the (gzipped) bytes."""
    headers = {
        "ETag": tile.etag,
        "Cache-Control": "private, no-cache",  # revalidate: features change any moment
        "Vary": "Accept-Encoding, Authorization, Cookie",
    }
    if _matches(if_none_match, tile.etag):
        return Response(status_code=304, headers=headers)
    if not tile.body:
        return Response(status_code=204, headers=headers)
    if _accepts_gzip(accept_encoding):
        headers["Content-Encoding"] = "gzip"
        return Response(tile.gzipped, media_type=MVT_MEDIA_TYPE, headers=headers)
    return Response(tile.body, media_type=MVT_MEDIA_TYPE, headers=headers)


@router.get(
    "/{layers}/{z}/{x}/{y}.mvt",
    response_class=Response,
    responses={
        200: {"content": {MVT_MEDIA_TYPE: {}}, "description": "The tile"},
        204: {"description": "Nothing to draw in this tile"},
        304: {"description": "Unchanged since the ETag in If-None-Match"},
        400: {"description": "No such tile"},
    },
)
def read_tile_route(
    layers: str, z: str, x: str, y: str, request: Request, session: SessionDep,
    actor: CurrentActor, filter_text: str | None = FilterQuery,
    if_none_match: str | None = Header(default=None),
    accept_encoding: str | None = Header(default=None),
) -> Response:  # fmt: skip
    """Return a vector tile of one or more comma-separated layers."""
    tile = read_tile(
        session=session, cache=request.app.state.tile_cache, specs=parse_layers(layers),
        tile=parse_tile(z, x, y), actor=actor, settings=request.app.state.tile_settings,
        filter_text=filter_text,
    )  # fmt: skip
    return tile_response(tile, if_none_match, accept_encoding)


@router.get("/{layers}.json")
def read_tilejson(
    layers: str, request: Request, session: SessionDep, actor: CurrentActor,
    filter_text: str | None = FilterQuery,
) -> JSONResponse:  # fmt: skip
    """Return the TileJSON 3.0 of one or more comma-separated layers."""
    specs = parse_layers(layers)
    layer_filters(specs, filter_text)  # a bad filter fails here, not in every tile
    url = f"{str(request.base_url).rstrip('/')}/tiles/{layers}/{{z}}/{{x}}/{{y}}.mvt"
    if filter_text:
        url += f"?filter={quote(filter_text, safe='')}"
    bounds = visible_bounds(session=session, specs=specs, actor=actor)
    return JSONResponse(tilejson(specs, url, bounds))
