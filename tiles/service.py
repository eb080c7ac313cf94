"""Serve a tile to an actor: from the cache when it holds it, rendered and stored if not."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from layers.accounts.roles import Permission
from layers.accounts.scope import Actor
from layers.features.registry import LayerSpec
from tiles.cache import EncodedTile, TileCache, TileKey
from tiles.pool import TilePool
from tiles.render import TileAddress, render_tile
from tiles.settings import TileSettings


def tile_key(
    specs: tuple[LayerSpec, ...], tile: TileAddress, actor: Actor, filter_text: str | None
) -> TileKey:
    """Return the cache key of ``tile`` for ``actor``; it holds the scope, so scopes never mix."""
    actor.require(Permission.FEATURES_READ)
    layers = tuple(spec.id for spec in specs)
    return TileKey(layers, tile.z, tile.x, tile.y, (filter_text or "").strip(), actor.scope)


async def read_tile(
    *,
    pool: TilePool,
    sessions: sessionmaker[Session],
    cache: TileCache,
    specs: tuple[LayerSpec, ...],
    tile: TileAddress,
    actor: Actor,
    settings: TileSettings,
    filter_text: str | None = None,
) -> EncodedTile:
    """Return ``tile`` encoded for ``actor``: cached, or rendered on ``pool`` and stored."""
    key = tile_key(specs, tile, actor, filter_text)

    async def render() -> EncodedTile:
        body = await render_tile(
            pool=pool, sessions=sessions, specs=specs, tile=tile, actor=actor,
            settings=settings, filter_text=key.filter or None,
        )  # fmt: skip
        return EncodedTile.encode(body, settings.gzip_level)

    return await cache.get_or_render(key, render)
