"""Settings of bulk imports over the API (``WARROOM_IMPORTS_*``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ImportSettings(BaseSettings):
    """Upload limit, where uploads and reject files are kept, and for how long."""

    model_config = SettingsConfigDict(env_prefix="WARROOM_IMPORTS_", extra="ignore")

    max_upload_bytes: int = Field(default=512 * 1024**2, ge=1024)
    work_dir: Path | None = Field(default=None, description="Default: the system temp dir.")
    keep_days: float = Field(default=7.0, gt=0, description="Reject files of ended jobs.")
