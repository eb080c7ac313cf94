"""The body of every refusal and failure, as the OpenAPI document describes it."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ErrorBody(BaseModel):
    """A sentence saying what went wrong and a code naming it; some carry more fields."""

    model_config = ConfigDict(extra="allow")

    detail: str
    code: str
