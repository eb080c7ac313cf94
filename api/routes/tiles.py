"""Mapbox Vector Tiles and their TileJSON; tiles carry strong ETags and are cached.

An empty tile (nothing visible there, or every layer outside its zoom range) is
``204 No Content``; a malformed or out-of-range z/x/y is ``400``.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from api.access import FEATURE_READERS, AsyncRule
from api.deps import (
    CurrentActor,
    SessionDep,
    admitted,
    bearer_token,
    current_actor,
    get_settings,
)
from api.errors import error_response
from api.links import public_base
from api.ops.context import note_user
from layers.accounts.scope import Actor
from layers.accounts.service import LiveSession, hash_token
from tiles.cache import EncodedTile
from tiles.render import layer_filters, parse_layers, parse_tile
from tiles.service import read_tile
from tiles.tilejson import tilejson, visible_bounds

router = APIRouter(prefix="/tiles", tags=["tiles"])

MVT_MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
FILTER_DESCRIPTION = "CQL2 text applied to every layer, e.g. risk_level >= 3"
FilterQuery = Query(default=None, alias="filter", description=FILTER_DESCRIPTION)
# The tile route reads its parameters itself (FastAPI resolving them cost ~0.05 ms a
# tile, a third of a cached tile's time in the app) and documents them here.
_TILE_PARAMETERS = [
    *({"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
      for name in ("layers", "z", "x", "y")),
    {"name": "filter", "in": "query", "required": False, "schema": {"type": "string"},
     "description": FILTER_DESCRIPTION},
]  # fmt: skip
_ALWAYS = [
    (b"cache-control", b"private, no-cache"),  # revalidate: features change any moment
    (b"vary", b"Accept-Encoding, Authorization, Cookie"),
]
_MVT = (b"content-type", MVT_MEDIA_TYPE.encode())
_GZIP = (b"content-encoding", b"gzip")


class TileResponse(Response):
    """A response with its headers given as bytes: no header building per tile."""

    def __init__(
        self, status_code: int, body: bytes, raw_headers: list[tuple[bytes, bytes]]
    ) -> None:
        self.status_code = status_code
        self.body = body
        self.background = None
        self.raw_headers = raw_headers


def _resolve_actor(request: Request, token: str) -> Actor:
    with request.app.state.sessionmaker() as session, session.begin():
        return current_actor(request, session, get_settings(request), token)


async def tile_actor(request: Request) -> Actor:
    """Return the caller's actor; a remembered session costs no thread, no session, no SQL."""
    token = bearer_token(request, get_settings(request))
    live: LiveSession | None = request.app.state.session_cache.get(hash_token(token))
    actor = admitted(live) if live else await run_in_threadpool(_resolve_actor, request, token)
    note_user(actor.user_id)
    return actor


# The tile route's rule (FEATURE_READERS), resolving the caller without FastAPI's help.
TILE_READERS = AsyncRule(FEATURE_READERS.name, FEATURE_READERS.roles, resolve=tile_actor)


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
    headers = [(b"etag", tile.etag.encode()), *_ALWAYS]
    if _matches(if_none_match, tile.etag):
        return TileResponse(304, b"", headers)
    if not tile.body:
        return TileResponse(204, b"", headers)
    body = tile.body
    if tile.gzipped and _accepts_gzip(accept_encoding):
        body = tile.gzipped
        headers.append(_GZIP)
    headers += [_MVT, (b"content-length", str(len(body)).encode())]
    return TileResponse(200, body, headers)


@router.get(
    "/{layers}/{z}/{x}/{y}.mvt",
    response_class=Response,
    responses={
        200: {"content": {MVT_MEDIA_TYPE: {}}, "description": "The tile (gzip if accepted)"},
        204: {"description": "Nothing to draw in this tile"},
        304: {"description": "Unchanged since the ETag in If-None-Match"},
        400: {"description": "No such tile"},
    },
    openapi_extra={"parameters": _TILE_PARAMETERS},
    dependencies=[Depends(TILE_READERS)],  # declared; the fast path below checks it itself
)
async def read_tile_route(request: Request) -> Response:
    """Return a vector tile of one or more comma-separated layers."""
    # first: without a session every tile is 401, for a role that reads no features 403
    actor = await TILE_READERS.actor(request)
    path, state = request.path_params, request.app.state
    specs, tile = parse_layers(path["layers"]), parse_tile(path["z"], path["x"], path["y"])
    encoded = await read_tile(
        pool=state.tile_pool, sessions=state.sessionmaker, cache=state.tile_cache,
        specs=specs, tile=tile, actor=actor, settings=state.tile_settings,
        filter_text=request.query_params.get("filter"),
    )  # fmt: skip
    headers = request.headers
    return tile_response(encoded, headers.get("if-none-match"), headers.get("accept-encoding"))


_TILE_ROUTE = next(r for r in router.routes if getattr(r, "endpoint", None) is read_tile_route)
# What Starlette compiles the route's path to: each {parameter} is one path segment.
_TILE_PATH = re.compile(r"/tiles/(?P<layers>[^/]+)/(?P<z>[^/]+)/(?P<x>[^/]+)/(?P<y>[^/]+)\.mvt")


class TileFastPath:
    """ASGI middleware that hands ``GET /tiles/.../{z}/{x}/{y}.mvt`` to its route at once.

    Routing past the app's other routes and FastAPI's request handling cost a cached
    tile ~40 of its ~60 us in the app (measured in-process, bench/RESULTS.md), and a map
    asks for dozens of tiles a second. The route is the documented one above; its
    errors are answered by the app's own handlers (``api.errors``). Everything else
    goes on to the app.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve a tile request, or pass any other request on."""
        match = None
        if scope["type"] == "http" and scope["method"] == "GET":
            match = _TILE_PATH.fullmatch(scope["path"])
        if match is None:
            await self.app(scope, receive, send)
            return
        scope["route"] = _TILE_ROUTE  # as the router would: the request metrics read it
        request = Request({**scope, "path_params": match.groupdict()}, receive)
        try:
            response: Response = await read_tile_route(request)
        except Exception as exc:
            response = await error_response(request, exc)
        await response(scope, receive, send)


@router.get("/{layers}.json", dependencies=[Depends(FEATURE_READERS)])
def read_tilejson(
    layers: str, request: Request, session: SessionDep, actor: CurrentActor,
    filter_text: str | None = FilterQuery,
) -> JSONResponse:  # fmt: skip
    """Return the TileJSON 3.0 of one or more comma-separated layers."""
    specs = parse_layers(layers)
    layer_filters(specs, filter_text)  # a bad filter fails here, not in every tile
    url = f"{public_base(request)}/tiles/{layers}/{{z}}/{{x}}/{{y}}.mvt"
    if filter_text:
        url += f"?filter={quote(filter_text, safe='')}"
    bounds = visible_bounds(session=session, specs=specs, actor=actor)
    return JSONResponse(tilejson(specs, url, bounds))
