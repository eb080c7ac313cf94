"""What records refer to: the features they concern and the people they are for."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


@dataclass(frozen=True)
class FeatureRef:
    """A feature a record concerns: its layer and id."""

    layer: str
    id: int


class Assignee(BaseModel):
    """Who a record is for: a user (an officer) or a unit (its unit users)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["user", "unit"]
    id: int = Field(ge=1)
