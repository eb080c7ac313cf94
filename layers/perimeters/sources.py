"""What a perimeter's contents list: feature layers and record kinds, each as one source.

Units (by category and risk), rail and bus stations, construction sites active in the
window, key station areas, incidents in the window, open hazards and activities whose
period meets the window. Every source is scoped to the actor as its own reads are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, Text, and_, cast, func, or_, select, true
from sqlalchemy.orm import Session

from geo.crs import CoordSystem
from layers.accounts.roles import Permission
from layers.accounts.scope import Actor, Scope, ScopeKind
from layers.errors import InvalidInput
from layers.features.models import Unit
from layers.features.query import (
    GEOJSON_DECIMALS,
    FeatureQuery,
    FeatureRow,
    conditions,
    geometries_in_crs,
    list_features,
)
from layers.features.registry import get_layer
from layers.features.timespan import TimeInterval
from layers.perimeters.models import UnitCellCount
from layers.records.activities import ACTIVITY
from layers.records.hazards import HAZARD
from layers.records.models import Record
from layers.records.reading import visible_clause

FEATURE_LAYERS = (
    "units", "rail_stations", "bus_stations", "construction_sites", "key_station_areas",
    "incidents",
)  # fmt: skip
RECORD_LAYERS = {"hazards": "隐患", "activities": "大型活动"}
CONTENT_LAYERS = (*FEATURE_LAYERS, *RECORD_LAYERS)
_IN_WINDOW = frozenset({"construction_sites", "incidents"})  # by their own time
_CALLED_OFF = ("rejected", "cancelled")  # activities that will not take place


@dataclass(frozen=True)
class Window:
    """The time a perimeter is in force; ``zone`` says whose days dates are."""

    starts_at: datetime
    ends_at: datetime
    zone: tzinfo


@dataclass(frozen=True)
class Source:
    """One layer of the contents: its table, its conditions and what it is counted by.

    ``by_cell``: a point layer whose rows keep their H3 cell (``h3_cell``), counted
    through the perimeter's cells; the others are found by their geometry's index.
    ``groups`` are counted apart (units by category and risk level). ``cell_counts``:
    the rows of the cells wholly inside a ring are counted from ``unit_cell_counts``
    under this condition (the actor's scope on it), not one by one.
    """

    id: str
    title: str
    table: Any
    where: tuple[ColumnElement[bool], ...]
    by_cell: bool = False
    groups: tuple[Any, ...] = ()
    cell_counts: ColumnElement[bool] | None = None


def check_layers(names: Sequence[str]) -> tuple[str, ...]:
    """Return the content layers asked for (all when none), or raise naming the known ones."""
    unknown = [n for n in names if n not in CONTENT_LAYERS]
    if unknown:
        raise InvalidInput(f"unknown content layers {', '.join(unknown)}; "
                           f"choose from: {', '.join(CONTENT_LAYERS)}")  # fmt: skip
    return tuple(dict.fromkeys(names)) or CONTENT_LAYERS


def layer_title(layer_id: str) -> str:
    """Return the Chinese title of a content layer."""
    return RECORD_LAYERS.get(layer_id) or get_layer(layer_id).title


def _counts_scope(scope: Scope) -> ColumnElement[bool] | None:
    """Return ``scope`` as a condition on the units' cell counts (None: they cannot tell)."""
    if scope.kind is ScopeKind.CITY:
        return true()
    if scope.kind is ScopeKind.DISTRICT:
        return UnitCellCount.district_id == scope.id
    if scope.kind is ScopeKind.PRECINCT:
        return UnitCellCount.precinct_id == scope.id
    return None  # a unit's own account sees one unit: counted as it is


def _feature_source(layer_id: str, actor: Actor, window: Window) -> Source:
    spec = get_layer(layer_id)
    interval = TimeInterval(window.starts_at, window.ends_at, window.zone)
    query = FeatureQuery(interval=interval if layer_id in _IN_WINDOW else None)
    model = spec.model
    units = model is Unit
    return Source(layer_id, spec.title, model, tuple(conditions(spec, actor, query)),
                  by_cell=spec.geometry_type == "Point",
                  groups=(Unit.category, Unit.risk_level) if units else (),
                  cell_counts=_counts_scope(actor.scope) if units else None)  # fmt: skip


def _record_source(layer_id: str, actor: Actor, window: Window) -> Source:
    actor.require(Permission.RECORDS_READ)
    if layer_id == "hazards":
        which = and_(Record.kind == HAZARD.id, Record.state.not_in(HAZARD.workflow.closed))
    else:
        which = and_(Record.kind == ACTIVITY.id, Record.state.not_in(_CALLED_OFF),
                     Record.starts_at <= window.ends_at,
                     or_(Record.ends_at.is_(None), Record.ends_at >= window.starts_at))  # fmt: skip
    where = (which, Record.geom.is_not(None), visible_clause(actor))
    return Source(layer_id, RECORD_LAYERS[layer_id], Record, where)


def source(layer_id: str, actor: Actor, window: Window) -> Source:
    """Return the source of a content layer for ``actor`` over ``window``."""
    if layer_id in RECORD_LAYERS:
        return _record_source(layer_id, actor, window)
    return _feature_source(layer_id, actor, window)


def _record_rows(session: Session, ids: Sequence[int], crs: CoordSystem) -> list[FeatureRow]:
    properties = func.json_build_object(
        "name", Record.title, "kind", Record.kind, "state", Record.state,
        "level", Record.details["level"], "starts_at", Record.starts_at,
        "ends_at", Record.ends_at, "district_id", Record.district_id,
        "precinct_id", Record.precinct_id,
    )  # fmt: skip
    rows = session.connection().execute(
        select(Record.id, func.ST_AsGeoJSON(Record.geom, GEOJSON_DECIMALS), cast(properties, Text))
        .where(Record.id.in_(ids)).order_by(Record.id)
    ).all()  # fmt: skip
    geometries = geometries_in_crs([row[1] for row in rows], crs)
    return [FeatureRow(row[0], g, row[2]) for row, g in zip(rows, geometries, strict=True)]


def rows_of(
    session: Session, actor: Actor, layer_id: str, ids: Sequence[int], crs: CoordSystem,
    chunk: int = 5_000,
) -> list[FeatureRow]:  # fmt: skip
    """Return the GeoJSON rows of the features (or records) ``ids`` of a content layer, by id."""
    ordered = sorted(ids)
    rows: list[FeatureRow] = []
    for start in range(0, len(ordered), chunk):
        part = ordered[start : start + chunk]
        if layer_id in RECORD_LAYERS:
            rows += _record_rows(session, part, crs)
            continue
        spec = get_layer(layer_id)
        query = FeatureQuery(where=(spec.model.id.in_(part),), limit=len(part), crs=crs)
        rows += list_features(session=session, spec=spec, actor=actor, query=query).features
    return rows
