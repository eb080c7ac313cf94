"""The public-transport topic: a transit company's own stations, stops and sites, and who
operates each (set by commanders and administrators)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Response
from geoalchemy2.shape import to_shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.access import FEATURE_READERS, RECORD_READERS, requires
from api.deps import CurrentActor, LimitDep, SessionDep, if_match_version
from api.schemas.records import RiskPublic
from api.schemas.transit import (
    OperatedUnitPublic,
    OperatedUnitsPublic,
    OperatorPublic,
    OperatorsIn,
    OperatorsPublic,
)
from layers.accounts.roles import Permission
from layers.features.models import Unit
from layers.features.operating import EDITORS, Operators, read_operators, set_operators
from layers.records.operated import OperatedUnit, my_units

OPERATOR_EDITORS = requires(Permission.FEATURES_WRITE, roles=EDITORS,
                            name="set who operates a feature")  # fmt: skip
router = APIRouter(prefix="/api/transit", tags=["transit"])
Layer = Annotated[str, Path(max_length=32, description="a transit layer: rail_stations, ...")]
FeatureId = Annotated[int, Path(ge=1, le=2**63 - 1)]


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


@router.get("/my-units", dependencies=[Depends(RECORD_READERS)])
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


def _operators_public(session: Session, operators: Operators, response: Response
                      ) -> OperatorsPublic:  # fmt: skip
    """Return who operates a feature, its version also as the ETag."""
    named = select(Unit.id, Unit.name).where(Unit.id.in_(operators.unit_ids))
    names = dict(session.execute(named).tuples().all())
    response.headers["ETag"] = f'"{operators.version}"'
    return OperatorsPublic(
        layer=operators.layer, feature_id=operators.feature_id, version=operators.version,
        operators=[OperatorPublic(id=i, name=names[i]) for i in operators.unit_ids],
    )  # fmt: skip


@router.get("/operators/{layer}/{feature_id}", dependencies=[Depends(FEATURE_READERS)])
def read_feature_operators(
    layer: Layer, feature_id: FeatureId, session: SessionDep, actor: CurrentActor,
    response: Response,
) -> OperatorsPublic:  # fmt: skip
    """Return the units (transit companies) that operate a station, stop or rail site."""
    found = read_operators(session=session, layer=layer, feature_id=feature_id, actor=actor)
    return _operators_public(session, found, response)


@router.put("/operators/{layer}/{feature_id}", dependencies=[Depends(OPERATOR_EDITORS)])
def update_feature_operators(
    layer: Layer, feature_id: FeatureId, body: OperatorsIn, session: SessionDep,
    actor: CurrentActor, response: Response, if_match: str | None = Header(default=None),
) -> OperatorsPublic:  # fmt: skip
    """Replace who operates a feature (commanders, admins) at its If-Match version; audited."""
    changed = set_operators(session=session, layer=layer, feature_id=feature_id,
                            unit_ids=body.unit_ids, expected_version=if_match_version(if_match),
                            actor=actor)  # fmt: skip
    return _operators_public(session, changed, response)
