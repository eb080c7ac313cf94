"""The map pages' settings, read by every page before it draws its map."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from api.access import SIGNED_IN
from api.deps import get_settings
from api.schemas.map import BasemapPublic, MapConfigPublic

router = APIRouter(prefix="/api/map", tags=["map"])


@router.get("/config", dependencies=[Depends(SIGNED_IN)])
def read_map_config(request: Request) -> MapConfigPublic:
    """Return the base map to draw: our own data, and an internal tile service if one is set."""
    settings = get_settings(request).map
    if settings.basemap_url is None:
        return MapConfigPublic(basemap=BasemapPublic(kind="own"))
    basemap = BasemapPublic(
        kind=settings.basemap_kind, url=settings.basemap_url, tile_size=settings.basemap_tile_size
    )
    return MapConfigPublic(basemap=basemap)
