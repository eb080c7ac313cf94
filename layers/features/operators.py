"""Who operates a feature: a transit company's stations, stops and rail construction sites.

A unit — a metro company, a bus fleet, a rail builder — operates features of other
layers (a transfer station may have two operators). Its users work on those as on their
own unit: they find them among their units, read and write the records about them
(``layers.records``) and ask for police support there; everything else about their
scope is unchanged. One table for every layer, like ``record_links``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, ForeignKey, Index, String, exists, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from layers.accounts.roles import Permission
from layers.accounts.scope import Actor, ScopeKind
from layers.base import Base, Feature
from layers.cursors import INVALID, is_bigint, pack_cursor, unpack_cursor
from layers.errors import InvalidInput, NotFound
from layers.features.registry import REGISTRY, LayerSpec, get_layer


class FeatureOperator(Base):
    """Unit ``unit_id`` operates feature ``feature_id`` of ``layer``."""

    __tablename__ = "feature_operators"
    __table_args__ = (Index("ix_feature_operators_feature", "layer", "feature_id"),)

    unit_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("units.id", ondelete="CASCADE"), primary_key=True
    )
    layer: Mapped[str] = mapped_column(String(32), primary_key=True)
    feature_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)


def operated_by(layer: Any, feature_id: Any, unit_id: int | None) -> ColumnElement[bool]:
    """Return "unit ``unit_id`` operates feature ``feature_id`` of ``layer``" (SQL or values)."""
    return exists().where(
        FeatureOperator.unit_id == unit_id,
        FeatureOperator.layer == layer,
        FeatureOperator.feature_id == feature_id,
    )


def within_reach(spec: LayerSpec, actor: Actor) -> ColumnElement[bool]:
    """Return the features of ``spec`` the actor works on: its scope, and what its unit operates.

    What a unit operates may be units too: a chain's branches (the unit portal's organisation).
    """
    clause = actor.scope.clause(spec.model)
    if actor.scope.kind is ScopeKind.UNIT:
        return or_(clause, operated_by(spec.id, spec.model.id, actor.scope.id))
    return clause


def reach_feature(*, session: Session, spec: LayerSpec, feature_id: int, actor: Actor) -> Feature:
    """Return one feature within the actor's reach, or raise ``NotFound`` as for a missing one."""
    actor.require(Permission.FEATURES_READ)
    feature = session.scalar(
        select(spec.model).where(spec.model.id == feature_id, within_reach(spec, actor))
    )
    if feature is None:
        raise NotFound(f"layer {spec.id!r} has no feature {feature_id} that you may see")
    return feature


@dataclass(frozen=True)
class OperatedPage:
    """One page of the features a unit operates, by layer then id, and the next cursor."""

    features: list[tuple[LayerSpec, Feature]]
    next_cursor: str | None


def _after(cursor: str) -> tuple[str, int]:
    layer, feature_id = unpack_cursor(cursor, 2)
    if not isinstance(layer, str) or layer not in REGISTRY or not is_bigint(feature_id):
        raise InvalidInput(INVALID)
    return layer, feature_id


def operated_features(
    *, session: Session, actor: Actor, limit: int, cursor: str | None = None
) -> OperatedPage:
    """Return a page of the features the actor's unit operates (none for other scopes)."""
    actor.require(Permission.FEATURES_READ)
    if actor.scope.kind is not ScopeKind.UNIT:
        return OperatedPage([], None)
    query = (
        select(FeatureOperator.layer, FeatureOperator.feature_id)
        .where(FeatureOperator.unit_id == actor.scope.id)
        .order_by(FeatureOperator.layer, FeatureOperator.feature_id)
        .limit(limit + 1)
    )
    if cursor:
        after = _after(cursor)
        query = query.where(
            or_(
                FeatureOperator.layer > after[0],
                (FeatureOperator.layer == after[0]) & (FeatureOperator.feature_id > after[1]),
            )
        )
    refs = session.execute(query).all()
    more = len(refs) > limit
    refs = refs[:limit]
    found: dict[tuple[str, int], Feature] = {}
    for layer in dict.fromkeys(layer for layer, _ in refs):
        spec = get_layer(layer)
        ids = [feature_id for name, feature_id in refs if name == layer]
        for feature in session.scalars(select(spec.model).where(spec.model.id.in_(ids))):
            found[(layer, feature.id)] = feature
    features = [(get_layer(layer), found[(layer, i)]) for layer, i in refs if (layer, i) in found]
    last = refs[-1] if more and refs else None
    return OperatedPage(features, pack_cursor([last[0], last[1]]) if last else None)
