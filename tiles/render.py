"""Render a vector tile for an actor: layers, zoom ranges, CQL2 filter, scope, aggregation."""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from typing import Any

from sqlalchemy import ColumnElement, Select, select, text
from sqlalchemy.orm import Session

from geo.tiling import is_valid_tile
from layers.accounts.roles import Permission
from layers.accounts.scope import Actor, Scope
from layers.errors import InvalidInput, WarroomError
from layers.features.cql import cql2_clause
from layers.features.registry import LayerSpec, get_layer
from tiles.clusters import CLUSTER_SHIFT, ensure_fresh, scope_clause, stored_cluster_rows
from tiles.settings import TileSettings
from tiles.sql import TileGeometry, cluster_rows, is_point_layer, mvt_layer, raw_rows

MAX_ZOOM = 22
MAX_LAYERS = 10


class InvalidTile(WarroomError):
    """A z/x/y that addresses no tile (mapped to 400 by the default status)."""


@dataclass(frozen=True)
class TileAddress:
    """A valid XYZ tile."""

    z: int
    x: int
    y: int


def parse_tile(z: str, x: str, y: str) -> TileAddress:
    """Return the tile addressed by path segments, or raise ``InvalidTile``."""
    if not all(part.isascii() and part.isdigit() for part in (z, x, y)):
        raise InvalidTile(f"tile address must be integers z/x/y, got {z}/{x}/{y}")
    tile = TileAddress(int(z), int(x), int(y))
    if not is_valid_tile(tile.z, tile.x, tile.y, max_zoom=MAX_ZOOM):
        raise InvalidTile(f"no tile {z}/{x}/{y}: zoom must be 0..{MAX_ZOOM} and x, y below 2**zoom")
    return tile


def parse_layers(value: str) -> tuple[LayerSpec, ...]:
    """Return the layers of a comma list (duplicates dropped), or raise ``NotFound``."""
    names = list(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))
    if not names:
        raise InvalidInput("name at least one layer, e.g. /tiles/units/12/3372/1552.mvt")
    if len(names) > MAX_LAYERS:
        raise InvalidInput(f"at most {MAX_LAYERS} layers per tile, got {len(names)}")
    return tuple(get_layer(name) for name in names)


def layer_filters(
    specs: tuple[LayerSpec, ...], filter_text: str | None
) -> dict[str, list[ColumnElement[bool]]]:
    """Return each layer's CQL2 condition (none without a filter), or raise ``InvalidInput``."""
    if filter_text is None or not filter_text.strip():
        return {spec.id: [] for spec in specs}
    return {spec.id: [cql2_clause(spec, filter_text)] for spec in specs}


def aggregates_at(spec: LayerSpec, z: int) -> bool:
    """Return whether tiles of ``spec`` at zoom ``z`` carry clusters instead of points."""
    return is_point_layer(spec) and z < spec.point_zoom


def stored_clusters_serve(
    spec: LayerSpec, z: int, scope: Scope, filters: list[ColumnElement[bool]]
) -> bool:
    """Return whether the precomputed clusters answer this layer of a tile.

    They hold no attributes to filter on, and a unit user's one unit needs no table.
    """
    return aggregates_at(spec, z) and not filters and scope_clause(scope) is not None


def layer_query(
    spec: LayerSpec,
    tile: TileAddress,
    scope: Scope,
    filters: list[ColumnElement[bool]],
    settings: TileSettings,
) -> Select[Any]:
    """Return the query of one MVT layer of ``tile`` as ``scope`` may see it."""
    geometry = TileGeometry.of(
        tile.z, tile.x, tile.y, extent=settings.extent, buffer=settings.buffer
    )
    stored_scope = scope_clause(scope)
    if stored_clusters_serve(spec, tile.z, scope, filters) and stored_scope is not None:
        rows = stored_cluster_rows(spec, geometry, tile.z, tile.x, tile.y, stored_scope)
        return mvt_layer(rows, spec.id, geometry, None)
    where = [scope.clause(spec.model), *filters]
    if aggregates_at(spec, tile.z):
        rows = cluster_rows(spec, geometry, where, 1 << CLUSTER_SHIFT)
        return mvt_layer(rows, spec.id, geometry, None)
    rows = raw_rows(spec, geometry, where, settings.max_features_per_layer)
    return mvt_layer(rows, spec.id, geometry, "id")


def render_tile(
    *,
    session: Session,
    specs: tuple[LayerSpec, ...],
    tile: TileAddress,
    actor: Actor,
    settings: TileSettings,
    filter_text: str | None = None,
) -> bytes:
    """Return the MVT bytes of ``tile`` as ``actor`` may see it (empty: nothing to draw)."""
    actor.require(Permission.FEATURES_READ)
    filters = layer_filters(specs, filter_text)
    shown = [spec for spec in specs if spec.min_zoom <= tile.z <= spec.max_zoom]
    if not shown:
        return b""
    for spec in shown:
        if stored_clusters_serve(spec, tile.z, actor.scope, filters[spec.id]):
            ensure_fresh(session, spec)
    queries = [layer_query(spec, tile, actor.scope, filters[spec.id], settings) for spec in shown]
    # Parallel workers pay ~10 ms of PostGIS start-up each: a loss on tile-sized queries.
    session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
    layers: list[ColumnElement[Any]] = [query.scalar_subquery() for query in queries]
    body = session.scalar(select(reduce(lambda a, b: a.op("||")(b), layers)))
    return bytes(body or b"")
