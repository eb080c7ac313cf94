"""Schemas of import jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class ImportJobPublic(BaseModel):
    """An import job with its progress and, once finished, its report."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    layer: str
    source: str
    status: str
    phase: str | None
    done: int
    total: int
    created_at: datetime
    updated_at: datetime
    report: dict[str, Any] | None
    error: str | None
    has_rejects: bool = False
