"""Check-ins on site: an officer records being at a feature, refused from too far away."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import select
from sqlalchemy.orm import Session

from layers.accounts.roles import Permission
from layers.accounts.scope import Actor
from layers.audit.service import audited_denials, record_audit
from layers.errors import PermissionDenied
from layers.features.distance import metres_to
from layers.features.operators import reach_feature
from layers.features.registry import LayerSpec
from layers.fieldwork.models import CheckIn

__all__ = ["NewCheckIn", "TooFarAway", "check_in", "check_ins_at", "read_check_in"]

ACTION = "check_in.create"


class TooFarAway(PermissionDenied):
    """A check-in from farther than the configured distance from its feature."""

    def __init__(self, message: str, *, distance_m: float, max_distance_m: float) -> None:
        super().__init__(message, distance_m=distance_m, max_distance_m=max_distance_m)


@dataclass(frozen=True)
class NewCheckIn:
    """What a phone sends to check in: the feature, its position (WGS84) and times."""

    spec: LayerSpec
    feature_id: int
    position: Point
    accuracy_m: float | None = None
    client_at: datetime | None = None


def _snapshot(check: CheckIn) -> dict[str, Any]:
    return {"layer": check.layer, "feature_id": check.feature_id,
            "distance_m": round(check.distance_m, 1), "accuracy_m": check.accuracy_m,
            "client_at": check.client_at.isoformat() if check.client_at else None}  # fmt: skip


def check_in(
    *, session: Session, new: NewCheckIn, actor: Actor, radius_m: float
) -> CheckIn:  # fmt: skip
    """Record the actor at a feature within its reach; audited.

    Refused with ``TooFarAway`` (audited too) when the position is more than ``radius_m``
    from the feature (geodesic; 0 inside an area), ``NotFound`` for a feature out of reach.
    """
    spec = new.spec
    with audited_denials(session, actor, ACTION, spec.id, new.feature_id):
        actor.require(Permission.RECORDS_WRITE)
        feature = reach_feature(session=session, spec=spec, feature_id=new.feature_id,
                                actor=actor)  # fmt: skip
        distance = float(session.scalar(
            select(metres_to(spec, new.position)).where(spec.model.id == feature.id)
        ) or 0.0)  # fmt: skip
        if distance > radius_m:
            raise TooFarAway(
                f"you are {distance:.0f} m from {spec.id} {feature.id}; a check-in must be "
                f"made within {radius_m:.0f} m",
                distance_m=round(distance, 1), max_distance_m=radius_m,
            )  # fmt: skip
    check = CheckIn(
        layer=spec.id, feature_id=feature.id, user_id=actor.user_id, username=actor.username,
        geom=from_shape(new.position, srid=4326), distance_m=distance,
        accuracy_m=new.accuracy_m, client_at=new.client_at,
        district_id=feature.district_id, precinct_id=feature.precinct_id,
    )  # fmt: skip
    session.add(check)
    session.flush()
    record_audit(session, actor=actor, action=ACTION, target_type="check_in",
                 target_id=check.id, after=_snapshot(check))  # fmt: skip
    return check


def read_check_in(*, session: Session, check_in_id: int, actor: Actor) -> CheckIn | None:
    """Return a check-in the actor made (what a resent check-in answers), or None."""
    check = session.get(CheckIn, check_in_id)
    return check if check is not None and check.user_id == actor.user_id else None


def check_ins_at(
    *, session: Session, spec: LayerSpec, feature_id: int, actor: Actor, limit: int
) -> list[CheckIn]:  # fmt: skip
    """Return the newest check-ins at a feature within the actor's reach, newest first."""
    actor.require(Permission.RECORDS_READ)
    reach_feature(session=session, spec=spec, feature_id=feature_id, actor=actor)
    return list(session.scalars(
        select(CheckIn).where(CheckIn.layer == spec.id, CheckIn.feature_id == feature_id)
        .order_by(CheckIn.at.desc(), CheckIn.id.desc()).limit(limit)
    ))  # fmt: skip
