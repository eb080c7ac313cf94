"""The public-transport topic: a transit company's own stations, stops and sites."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from geoalchemy2.shape import to_shape

from api.access import RECORD_READERS
from api.deps import CurrentActor, LimitDep, SessionDep
from api.schemas.records import RiskPublic
from api.schemas.transit import OperatedUnitPublic, OperatedUnitsPublic
from layers.records.operated import OperatedUnit, my_units

router = APIRouter(prefix="/api/transit", tags=["transit"], dependencies=[Depends(RECORD_READERS)])


def to_public(unit: OperatedUnit) -> OperatedUnitPublic:
    """Return a company's unit with its map attributes (never personal) and a point to show."""
    feature, spec = unit.feature, unit.spec
    point = to_shape(feature.geom).representative_point()  # type: ignore[attr-defined]
    return OperatedUnitPublic(
        layer=spec.id, id=feature.id, name=feature.name,
        properties={a.name: getattr(feature, a.name) for a in spec.attributes if a.tile},
        location=(point.x, point.y), district_id=feature.district_id,
        precinct_id=feature.precinct_id, records=unit.records,
        risk=RiskPublic(open_hazards=unit.open_hazards, hazard_level=unit.hazard_level),
    )  # fmt: skip


@router.get("/my-units")
def list_my_units(
    session: SessionDep, actor: CurrentActor, limit: LimitDep,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> OperatedUnitsPublic:  # fmt: skip
    """Return the stations, stops and rail sites the caller's transit company operates.

    Each with how many records concern it (read them at its ``/records`` timeline) and
    its open hazards; empty for a user who is not a unit's.
    """
    units, next_cursor = my_units(session=session, actor=actor, limit=limit, cursor=cursor)
    data = [to_public(unit) for unit in units]
    return OperatedUnitsPublic(data=data, count=len(data), next=next_cursor)
