"""Who sees a perimeter: the city, and each district or precinct it reaches into."""

from __future__ import annotations

from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy import ColumnElement, exists, false, func, select, true
from sqlalchemy.orm import Session

from layers.accounts.scope import Scope, ScopeKind
from layers.features.models import District, Precinct
from layers.features.query import literal_geometry
from layers.perimeters.models import Perimeter


def _reaches(scope: Scope, area: Any) -> ColumnElement[bool]:
    """Return "``area`` reaches into the scope's jurisdiction"."""
    if scope.kind is ScopeKind.CITY:
        return true()
    if scope.kind is ScopeKind.UNIT:  # a unit's users never see the police's plans
        return false()
    boundary = District if scope.kind is ScopeKind.DISTRICT else Precinct
    return exists().where(boundary.id == scope.id, func.ST_Intersects(boundary.geom, area))


def visible_clause(scope: Scope) -> ColumnElement[bool]:
    """Return the condition keeping the perimeters whose rings reach into ``scope``."""
    return _reaches(scope, Perimeter.extent)


def reaches_scope(session: Session, scope: Scope, extent: BaseGeometry) -> bool:
    """Return whether a perimeter of ``extent`` would reach into ``scope``."""
    return bool(session.scalar(select(_reaches(scope, literal_geometry(extent)))))
