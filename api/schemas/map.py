"""What a map page needs to know before it draws: the base map it sits on."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class BasemapPublic(BaseModel):
    """The base map: our own data only, or with an internal tile service under it."""

    kind: Literal["own", "raster", "style"] = Field(
        description="own: drawn from our layers only; raster: XYZ image tiles at url; "
        "style: a MapLibre style JSON at url (vector tiles of an internal GIS server)."
    )
    url: str | None = None
    tile_size: int = 256


class MapConfigPublic(BaseModel):
    """The map pages' settings (WARROOM_MAP_*)."""

    basemap: BasemapPublic
