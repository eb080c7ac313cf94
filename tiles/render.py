"""Render a vector tile for an actor: layers, zoom ranges, CQL2 filter, scope, aggregation.

The statement of a tile depends on its layers, zoom, scope and filter, not on x and y:
it is built and compiled to psycopg2 text once per such combination, kept, and run with
the tile's bounds as parameters, in one round trip on the tile pool (``tiles.pool``).
A statement that reads precomputed clusters also says, from the same snapshot, whether
any of them awaits a refresh; only then are they refreshed (in a thread, in a session)
and the tile read again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache, reduce
from typing import Any

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session, sessionmaker

from geo.tiling import is_valid_tile
from layers.accounts.roles import Permission
from layers.accounts.scope import Actor, Scope
from layers.errors import InvalidInput, WarroomError
from layers.features.cql import cql2_clause
from layers.features.registry import LayerSpec, all_layers, get_layer
from tiles.clusters import (
    CLUSTER_SHIFT,
    awaiting_refresh,
    cell_params,
    ensure_fresh,
    scope_clause,
    stored_cluster_rows,
)
from tiles.pool import TilePool, driver_sql
from tiles.settings import TileSettings
from tiles.sql import TileFrame, TileGeometry, cluster_rows, is_point_layer, mvt_layer, raw_rows

MAX_ZOOM = 22
MAX_LAYERS = 10
STATEMENTS_KEPT = 4096  # compiled tile statements kept, by layers, zoom, scope and filter


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
    z: int,
    scope: Scope,
    filters: list[ColumnElement[bool]],
    settings: TileSettings,
) -> Select[Any]:
    """Return the query of one MVT layer of a zoom-``z`` tile as ``scope`` may see it."""
    frame = TileFrame.of(extent=settings.extent, buffer=settings.buffer)
    stored_scope = scope_clause(scope)
    if stored_clusters_serve(spec, z, scope, filters) and stored_scope is not None:
        return mvt_layer(stored_cluster_rows(spec, frame, z, stored_scope), spec.id, frame, None)
    where = [scope.clause(spec.model), *filters]
    if aggregates_at(spec, z):
        rows = cluster_rows(spec, frame, where, 1 << CLUSTER_SHIFT)
        return mvt_layer(rows, spec.id, frame, None)
    rows = raw_rows(spec, frame, where, settings.max_features_per_layer)
    return mvt_layer(rows, spec.id, frame, "id")


def placement(tile: TileAddress, *, extent: int, buffer: int) -> dict[str, Any]:
    """Return the parameters that place a tile statement on ``tile``."""
    geometry = TileGeometry.of(tile.z, tile.x, tile.y, extent=extent, buffer=buffer)
    return {**geometry.params(), **cell_params(tile.x, tile.y)}


@dataclass(frozen=True)
class TileStatement:
    """The statement of every tile of one zoom, layer list, scope and filter, compiled."""

    sql: str  # psycopg2 text; its first column is the tile
    values: Mapping[str, Any]  # its own literals' parameters; the tile's are added per tile
    refresh: tuple[LayerSpec, ...]  # layers whose precomputed clusters it reads
    extent: int
    buffer: int

    def params(self, tile: TileAddress) -> dict[str, Any]:
        """Return every parameter of the statement placed on ``tile``."""
        return {**self.values, **placement(tile, extent=self.extent, buffer=self.buffer)}


def tile_statement(
    specs: tuple[LayerSpec, ...], z: int, scope: Scope, filter_text: str | None,
    settings: TileSettings,
) -> TileStatement | None:  # fmt: skip
    """Return the statement of a zoom-``z`` tile (None: no layer shows).

    Statements of registered layers are built once and kept, by layer id.
    """
    grid = (settings.extent, settings.buffer, settings.max_features_per_layer)
    flt = (filter_text or "").strip()
    registered = all_layers()
    if all(any(spec is known for known in registered) for spec in specs):
        return _kept_statement(tuple(spec.id for spec in specs), z, scope, flt, grid)
    return _build_statement(specs, z, scope, flt, grid)


@lru_cache(maxsize=STATEMENTS_KEPT)
def _kept_statement(
    layer_ids: tuple[str, ...], z: int, scope: Scope, filter_text: str, grid: tuple[int, int, int]
) -> TileStatement | None:
    specs = tuple(get_layer(layer_id) for layer_id in layer_ids)
    return _build_statement(specs, z, scope, filter_text, grid)


def _build_statement(
    specs: tuple[LayerSpec, ...], z: int, scope: Scope, filter_text: str,
    grid: tuple[int, int, int],
) -> TileStatement | None:  # fmt: skip
    filters = layer_filters(specs, filter_text)
    shown = [spec for spec in specs if spec.min_zoom <= z <= spec.max_zoom]
    if not shown:
        return None
    extent, buffer, limit = grid
    settings = TileSettings(extent=extent, buffer=buffer, max_features_per_layer=limit)
    layers: list[ColumnElement[Any]] = [
        layer_query(spec, z, scope, filters[spec.id], settings).scalar_subquery() for spec in shown
    ]
    refresh = tuple(s for s in shown if stored_clusters_serve(s, z, scope, filters[s.id]))
    columns = [reduce(lambda a, b: a.op("||")(b), layers)]
    if refresh:
        columns.append(awaiting_refresh(refresh))
    example = placement(TileAddress(z, 0, 0), extent=extent, buffer=buffer)
    sql, values = driver_sql(select(*columns), placeholders=example)
    return TileStatement(sql, values, refresh, extent, buffer)


def _refresh(sessions: sessionmaker[Session], specs: tuple[LayerSpec, ...]) -> None:
    with sessions() as session, session.begin():
        for spec in specs:
            ensure_fresh(session, spec)


async def render_tile(
    *,
    pool: TilePool,
    sessions: sessionmaker[Session],
    specs: tuple[LayerSpec, ...],
    tile: TileAddress,
    actor: Actor,
    settings: TileSettings,
    filter_text: str | None = None,
) -> bytes:
    """Return the MVT bytes of ``tile`` as ``actor`` may see it (empty: nothing to draw).

    ``pool`` runs the tile statement; ``sessions`` refresh stale clusters (rare: after
    writes), in a worker thread.
    """
    actor.require(Permission.FEATURES_READ)
    statement = tile_statement(specs, tile.z, actor.scope, filter_text, settings)
    if statement is None:
        return b""
    params = statement.params(tile)
    row = await pool.fetch(statement.sql, params)
    if statement.refresh and row[1]:  # it read clusters a write has made stale
        await asyncio.to_thread(_refresh, sessions, statement.refresh)
        row = await pool.fetch(statement.sql, params)
    return bytes(row[0] or b"")
