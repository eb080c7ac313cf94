"""The one door for feature reads and writes: permission, scope, version, audit, events."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from layers.accounts.roles import Permission, Role
from layers.accounts.scope import Actor
from layers.audit.service import append_event, audited_denials, record_audit
from layers.base import Feature
from layers.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    PreconditionRequired,
    VersionConflict,
)
from layers.events import announce_after_commit
from layers.features.attributes import coerce_properties
from layers.features.followers import written
from layers.features.geometry import prepare_geometry
from layers.features.jurisdiction import assign_jurisdiction
from layers.features.personal import (
    masked_personal,
    opened_personal,
    seal_personal,
    split_personal,
)
from layers.features.registry import LayerSpec


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def feature_properties(spec: LayerSpec, feature: Feature) -> dict[str, Any]:
    """Return the registry attributes of ``feature`` as JSON-ready values, personal ones masked."""
    shown = masked_personal(spec, opened_personal(spec, feature))
    return {a.name: shown[a.name] if a.name in shown else _json_value(getattr(feature, a.name))
            for a in spec.attributes}  # fmt: skip


def feature_snapshot(spec: LayerSpec, feature: Feature) -> dict[str, Any]:
    """Return what the audit log keeps of a feature: properties, geometry, version."""
    return {
        "properties": feature_properties(spec, feature),
        "geometry": mapping(to_shape(feature.geom)),  # type: ignore[attr-defined]
        "version": feature.version,
        "external_id": feature.external_id,
    }


def _visible(spec: LayerSpec, feature_id: int, actor: Actor) -> Select[Feature]:
    """Select the feature if it lies in the actor's scope."""
    # Hidden and absent get one answer: ids of other jurisdictions cannot be enumerated.
    return select(spec.model).where(spec.model.id == feature_id, actor.scope.clause(spec.model))


def _unseen(spec: LayerSpec, feature_id: int) -> NotFound:
    return NotFound(f"layer {spec.id!r} has no feature {feature_id} that you may see")


def get_feature(*, session: Session, spec: LayerSpec, feature_id: int, actor: Actor) -> Feature:
    """Return one feature the actor may see, or raise ``NotFound``."""
    actor.require(Permission.FEATURES_READ)
    feature = session.scalar(_visible(spec, feature_id, actor))
    if feature is None:
        raise _unseen(spec, feature_id)
    return feature


def _lock_for_write(
    session: Session, spec: LayerSpec, feature_id: int, expected_version: int | None, actor: Actor
) -> Feature:
    """Lock the feature row if the actor may see it; only then compare versions."""
    if expected_version is None:
        raise PreconditionRequired("writes need the version they replace (If-Match header)")
    feature = session.scalar(_visible(spec, feature_id, actor).with_for_update())
    if feature is None:
        raise _unseen(spec, feature_id)
    if feature.version != expected_version:
        raise VersionConflict(
            f"feature {feature_id} is at version {feature.version}, not {expected_version}; "
            "reload it and apply your change again",
            current_version=feature.version,
        )
    return feature


def _store_geometry(
    feature: Feature, spec: LayerSpec, geometry: BaseGeometry, max_vertices: int
) -> None:
    prepared = prepare_geometry(spec, geometry, max_vertices=max_vertices)
    feature.geom = from_shape(prepared.geometry, srid=4326)  # type: ignore[attr-defined]
    feature.h3_cell = prepared.h3_cell
    feature.h3_coarse = prepared.h3_coarse
    if prepared.h3_cover is not None:
        feature.h3_cover = prepared.h3_cover  # type: ignore[attr-defined]


def _settle(session: Session, spec: LayerSpec, feature: Feature, actor: Actor) -> None:
    """Assign the jurisdiction of a written feature and check it stays in the actor's scope."""
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(_conflict_message(spec, exc)) from exc
    assign_jurisdiction(session, spec.table, [feature.id])
    session.refresh(feature)
    if not actor.scope.contains(feature):
        raise PermissionDenied(f"the feature would lie outside your jurisdiction ({spec.id!r})")


def _conflict_message(spec: LayerSpec, exc: IntegrityError) -> str:
    diag = getattr(exc.orig, "diag", None)
    constraint = getattr(diag, "constraint_name", None) or "a unique value"
    return f"layer {spec.id!r} already has a feature with the same value ({constraint})"


def _bounds(*geoms: BaseGeometry) -> tuple[float, float, float, float]:
    boxes = [g.bounds for g in geoms]
    return (
        min(b[0] for b in boxes), min(b[1] for b in boxes),
        max(b[2] for b in boxes), max(b[3] for b in boxes),
    )  # fmt: skip


def create_feature(
    *,
    session: Session,
    spec: LayerSpec,
    geometry: BaseGeometry,
    properties: dict[str, Any],
    actor: Actor,
    external_id: str | None = None,
    max_vertices: int,
) -> Feature:
    """Create a feature, assign its jurisdiction and audit it; returns the stored feature."""
    with audited_denials(session, actor, f"{spec.id}.create", spec.id, None):
        actor.require_layer_write(spec.id)
        values, personal = split_personal(spec, coerce_properties(spec, properties, partial=False))
        feature = spec.model(external_id=external_id, **values)  # type: ignore[call-arg]
        _store_geometry(feature, spec, geometry, max_vertices)
        session.add(feature)
        _settle(session, spec, feature, actor)
        seal_personal(session, spec, feature, personal)  # sealed for its row: after the insert
    after = feature_snapshot(spec, feature)
    record_audit(session, actor=actor, action=f"{spec.id}.create", target_type=spec.id,
                 target_id=feature.id, after=after)  # fmt: skip
    event = append_event(session, type="feature.created", actor=actor, layer=spec.id,
                         feature_id=feature.id,
                         bounds=_bounds(to_shape(feature.geom)),  # type: ignore[attr-defined]
                         payload={"version": feature.version})  # fmt: skip
    announce_after_commit(session, event)
    written(session, spec, feature, actor)
    return feature


def update_feature(
    *,
    session: Session,
    spec: LayerSpec,
    feature_id: int,
    expected_version: int | None,
    actor: Actor,
    geometry: BaseGeometry | None = None,
    properties: dict[str, Any] | None = None,
    max_vertices: int,
) -> Feature:
    """Change a feature's geometry and/or properties if ``expected_version`` is current."""
    with audited_denials(session, actor, f"{spec.id}.update", spec.id, feature_id):
        actor.require_layer_write(spec.id)
        feature = _lock_for_write(session, spec, feature_id, expected_version, actor)
        before = feature_snapshot(spec, feature)
        old_shape = to_shape(feature.geom)  # type: ignore[attr-defined]
        values, personal = split_personal(spec, coerce_properties(spec, properties or {},
                                                                  partial=True))  # fmt: skip
        for name, value in values.items():
            setattr(feature, name, value)
        seal_personal(session, spec, feature, personal)
        if geometry is not None:
            _store_geometry(feature, spec, geometry, max_vertices)
        feature.version += 1
        feature.updated_at = datetime.now(UTC)
        _settle(session, spec, feature, actor)
    after = feature_snapshot(spec, feature)
    record_audit(session, actor=actor, action=f"{spec.id}.update", target_type=spec.id,
                 target_id=feature.id, before=before, after=after)  # fmt: skip
    event = append_event(session, type="feature.updated", actor=actor, layer=spec.id,
                         feature_id=feature.id,
                         bounds=_bounds(old_shape, to_shape(feature.geom)),  # type: ignore[attr-defined]
                         payload={"version": feature.version})  # fmt: skip
    announce_after_commit(session, event)
    written(session, spec, feature, actor)
    return feature


def delete_feature(
    *,
    session: Session,
    spec: LayerSpec,
    feature_id: int,
    expected_version: int | None,
    actor: Actor,
) -> None:
    """Delete a feature if ``expected_version`` is current; audited with its last state."""
    with audited_denials(session, actor, f"{spec.id}.delete", spec.id, feature_id):
        actor.require_layer_write(spec.id)
        if actor.role is Role.UNIT:
            raise PermissionDenied("a unit user may not delete its unit; ask its officer")
        feature = _lock_for_write(session, spec, feature_id, expected_version, actor)
    before = feature_snapshot(spec, feature)
    shape = to_shape(feature.geom)  # type: ignore[attr-defined]
    session.delete(feature)
    record_audit(session, actor=actor, action=f"{spec.id}.delete", target_type=spec.id,
                 target_id=feature_id, before=before)  # fmt: skip
    event = append_event(session, type="feature.deleted", actor=actor, layer=spec.id,
                         feature_id=feature_id, bounds=_bounds(shape), payload={})  # fmt: skip
    announce_after_commit(session, event)
