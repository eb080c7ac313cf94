"""Vector tile settings under ``WARROOM_TILES_``; built by whoever owns the process."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class TileSettings(BaseSettings):
    """How tiles are cut, aggregated, compressed and cached."""

    model_config = SettingsConfigDict(env_prefix="WARROOM_TILES_", extra="ignore")

    extent: int = Field(default=4096, ge=256, le=16384, description="MVT grid per tile side.")
    buffer: int = Field(default=64, ge=0, le=1024, description="Clip margin in tile units.")
    max_features_per_layer: int = Field(default=20_000, ge=1)
    cache_bytes: int = Field(default=64 * 1024 * 1024, ge=0, description="0 disables the cache.")
    gzip_level: int = Field(
        default=1, ge=0, le=3, description="ISA-L gzip level 0-3; cold tiles pay it."
    )
