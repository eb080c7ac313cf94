"""Schemas of the public-transport topic: a transit company's units (我的单位), operators."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.records import RiskPublic


class OperatedUnitPublic(BaseModel):
    """A feature the company operates: where it is, its map attributes, records and risk."""

    layer: str
    id: int
    name: str
    properties: dict[str, Any]
    location: tuple[float, float]
    district_id: int | None
    precinct_id: int | None
    records: int
    risk: RiskPublic


class OperatedUnitsPublic(BaseModel):
    """One page of a company's units and the cursor of the next."""

    data: list[OperatedUnitPublic]
    count: int
    next: str | None = None


class OperatorsIn(BaseModel):
    """The units that operate a feature from now on (the whole set; empty for none)."""

    model_config = ConfigDict(extra="forbid")

    unit_ids: list[Annotated[int, Field(ge=1, le=2**63 - 1)]] = Field(max_length=20)


class OperatorPublic(BaseModel):
    """A unit operating a feature."""

    id: int
    name: str


class OperatorsPublic(BaseModel):
    """Who operates a feature, and the feature's version (its ETag)."""

    layer: str
    feature_id: int
    version: int
    operators: list[OperatorPublic]
