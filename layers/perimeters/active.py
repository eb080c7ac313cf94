"""The rings in force at a moment: what geofencing checks incidents and vehicles against.

A perimeter is in force from ``starts_at`` to ``ends_at`` (both included), found by
``ix_perimeters_window``; its rings' shapes have a GiST index of their own
(``ix_perimeter_rings_geom``) for "which rings in force hold this point" in SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from geoalchemy2.shape import to_shape
from shapely.geometry import MultiPolygon
from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from geo.validate import ensure_multipolygon
from layers.perimeters.models import Perimeter, PerimeterRing
from layers.perimeters.rings import RING_ORDER, RingKind


@dataclass(frozen=True)
class ActiveRing:
    """One ring of a perimeter in force: whose, which, and its shape."""

    perimeter_id: int
    perimeter_name: str
    kind: RingKind
    shape: MultiPolygon


def in_force(at: datetime) -> ColumnElement[bool]:
    """Return "the perimeter is in force at ``at``"."""
    return and_(Perimeter.starts_at <= at, Perimeter.ends_at >= at)


def active_rings(session: Session, at: datetime) -> list[ActiveRing]:
    """Return every ring of every perimeter in force at ``at`` (system-wide, unscoped)."""
    rows = session.execute(
        select(Perimeter.id, Perimeter.name, PerimeterRing.kind, PerimeterRing.geom)
        .join(PerimeterRing, PerimeterRing.perimeter_id == Perimeter.id)
        .where(in_force(at))
    ).all()  # fmt: skip
    rings = [ActiveRing(pid, name, RingKind(kind), ensure_multipolygon(to_shape(geom)))
             for pid, name, kind, geom in rows]  # fmt: skip
    return sorted(rings, key=lambda r: (r.perimeter_id, RING_ORDER.index(r.kind)))
