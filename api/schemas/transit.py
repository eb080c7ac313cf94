"""Schemas of the public-transport topic: a transit company's units (我的单位)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

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
