"""Setting who operates a transit feature (its companies), the one door for that write.

A commander or an administrator names the units (metro companies, bus fleets, rail
builders) that operate a station, stop, rail site or key station area. The set
replaces the one before, at the feature's version (If-Match), which it moves on: the
operators are part of what the feature is. Audited with the units before and after,
announced as the feature's update.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from geoalchemy2.shape import to_shape
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from layers.accounts.roles import Permission, Role
from layers.accounts.scope import Actor
from layers.audit.service import append_event, audited_denials, record_audit
from layers.base import Feature
from layers.errors import (
    InvalidInput,
    NotFound,
    PermissionDenied,
    PreconditionRequired,
    VersionConflict,
)
from layers.events import announce_after_commit
from layers.features.models import Unit
from layers.features.operators import FeatureOperator
from layers.features.registry import get_layer

TRANSIT_LAYERS = ("rail_stations", "bus_stations", "construction_sites", "key_station_areas")
EDITORS = frozenset({Role.ADMIN, Role.COMMANDER})
MAX_OPERATORS = 20


@dataclass(frozen=True)
class Operators:
    """The units operating one feature, and the feature's version."""

    layer: str
    feature_id: int
    version: int
    unit_ids: list[int]


def _feature(session: Session, layer: str, feature_id: int, actor: Actor, lock: bool) -> Feature:
    if layer not in TRANSIT_LAYERS:
        raise NotFound(f"layer {layer!r} has no operators; transit layers: "
                       f"{', '.join(TRANSIT_LAYERS)}")  # fmt: skip
    spec = get_layer(layer)
    query = select(spec.model).where(spec.model.id == feature_id, actor.scope.clause(spec.model))
    feature = session.scalar(query.with_for_update() if lock else query)
    if feature is None:
        raise NotFound(f"layer {layer!r} has no feature {feature_id} that you may see")
    return feature


def _unit_ids(session: Session, layer: str, feature_id: int) -> list[int]:
    return list(session.scalars(
        select(FeatureOperator.unit_id)
        .where(FeatureOperator.layer == layer, FeatureOperator.feature_id == feature_id)
        .order_by(FeatureOperator.unit_id)
    ))  # fmt: skip


def read_operators(*, session: Session, layer: str, feature_id: int, actor: Actor) -> Operators:
    """Return the units operating a feature the actor may see."""
    actor.require(Permission.FEATURES_READ)
    feature = _feature(session, layer, feature_id, actor, lock=False)
    return Operators(layer, feature_id, feature.version, _unit_ids(session, layer, feature_id))


def _checked_units(session: Session, unit_ids: Sequence[int]) -> list[int]:
    wanted = sorted(set(unit_ids))
    if len(wanted) > MAX_OPERATORS:
        raise InvalidInput(f"a feature has at most {MAX_OPERATORS} operators, not {len(wanted)}")
    found = set(session.scalars(select(Unit.id).where(Unit.id.in_(wanted))))
    missing = [i for i in wanted if i not in found]
    if missing:
        raise InvalidInput(f"no such units: {', '.join(map(str, missing))}; nothing was changed",
                           unit_ids=missing)  # fmt: skip
    return wanted


def set_operators(
    *, session: Session, layer: str, feature_id: int, unit_ids: Sequence[int],
    expected_version: int | None, actor: Actor,
) -> Operators:  # fmt: skip
    """Replace the units operating a feature, at its version; audited and announced."""
    with audited_denials(session, actor, f"{layer}.operators", layer, feature_id):
        actor.require(Permission.FEATURES_WRITE)
        if actor.role not in EDITORS:
            raise PermissionDenied(f"role {actor.role.value!r} may not set who operates a feature")
        if expected_version is None:
            raise PreconditionRequired("writes need the version they replace (If-Match header)")
        feature = _feature(session, layer, feature_id, actor, lock=True)
        if feature.version != expected_version:
            raise VersionConflict(
                f"feature {feature_id} is at version {feature.version}, not {expected_version}; "
                "reload it and apply your change again", current_version=feature.version,
            )  # fmt: skip
    wanted = _checked_units(session, unit_ids)
    before = _unit_ids(session, layer, feature_id)
    mine = (FeatureOperator.layer == layer, FeatureOperator.feature_id == feature_id)
    session.execute(delete(FeatureOperator).where(*mine))
    if wanted:
        session.execute(insert(FeatureOperator), [
            {"unit_id": u, "layer": layer, "feature_id": feature_id} for u in wanted
        ])  # fmt: skip
    feature.version += 1
    feature.updated_at = datetime.now(UTC)
    session.flush()
    record_audit(session, actor=actor, action=f"{layer}.operators", target_type=layer,
                 target_id=feature_id, before={"unit_ids": before},
                 after={"unit_ids": wanted, "version": feature.version})  # fmt: skip
    event = append_event(session, type="feature.updated", actor=actor, layer=layer,
                         feature_id=feature_id,
                         bounds=to_shape(feature.geom).bounds,  # type: ignore[attr-defined]
                         payload={"version": feature.version, "operators": wanted})  # fmt: skip
    announce_after_commit(session, event)
    return Operators(layer, feature_id, feature.version, wanted)
