"""Serve a tile to an actor: from the cache when it holds it, rendered and stored if not."""

from __future__ import annotations

from sqlalchemy.orm import Session

from layers.accounts.roles import Permission
from layers.accounts.scope import Actor
from layers.features.registry import LayerSpec
from tiles.cache import EncodedTile, TileCache, TileKey
from tiles.render import TileAddress, render_tile
from tiles.settings import TileSettings


def read_tile(
    *,
    session: Session,
    cache: TileCache,
    specs: tuple[LayerSpec, ...],
    tile: TileAddress,
    actor: Actor,
    settings: TileSettings,
    filter_text: str | None = None,
) -> EncodedTile:
    """Return ``tile`` encoded for ``actor``; the key holds the scope, so scopes never mix."""
    actor.require(Permission.FEATURES_READ)
    flt = (filter_text or "").strip()
    key = TileKey(tuple(spec.id for spec in specs), tile.z, tile.x, tile.y, flt, actor.scope)

    def render() -> EncodedTile:
        body = render_tile(
            session=session, specs=specs, tile=tile, actor=actor,
            settings=settings, filter_text=flt or None,
        )  # fmt: skip
        return EncodedTile.encode(body, settings.gzip_level)

    return cache.get_or_render(key, render)
