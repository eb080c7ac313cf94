"""A transit company's units (我的单位): what it operates, with its records and open hazards."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from layers.accounts.roles import Permission
from layers.accounts.scope import Actor
from layers.base import Feature
from layers.features.operators import operated_features
from layers.features.registry import LayerSpec
from layers.records.hazards import FeatureRisk
from layers.records.models import RecordLink


@dataclass(frozen=True)
class OperatedUnit:
    """A feature the actor's company operates, how many records concern it, its open hazards."""

    spec: LayerSpec
    feature: Feature
    records: int
    open_hazards: int
    hazard_level: int


def my_units(
    *, session: Session, actor: Actor, limit: int, cursor: str | None = None
) -> tuple[list[OperatedUnit], str | None]:
    """Return a page of the features the actor's unit operates, and the next page's cursor.

    Every record about them is the company's to read, so ``records`` counts them all.
    """
    actor.require(Permission.RECORDS_READ)
    page = operated_features(session=session, actor=actor, limit=limit, cursor=cursor)
    keys = [(spec.id, feature.id) for spec, feature in page.features]
    if not keys:
        return [], page.next_cursor
    counted = session.execute(
        select(RecordLink.layer, RecordLink.feature_id, func.count())
        .where(tuple_(RecordLink.layer, RecordLink.feature_id).in_(keys))
        .group_by(RecordLink.layer, RecordLink.feature_id)
    )
    records = {(layer, feature_id): int(n) for layer, feature_id, n in counted}
    risks = {
        (risk.layer, risk.feature_id): risk
        for risk in session.scalars(
            select(FeatureRisk).where(tuple_(FeatureRisk.layer, FeatureRisk.feature_id).in_(keys))
        )
    }
    units = []
    for (spec, feature), key in zip(page.features, keys, strict=True):
        risk = risks.get(key)
        units.append(OperatedUnit(spec, feature, records.get(key, 0),
                                  risk.open_hazards if risk else 0,
                                  risk.hazard_level if risk else 0))  # fmt: skip
    return units, page.next_cursor
