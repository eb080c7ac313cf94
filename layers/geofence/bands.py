"""The rings in force over a span of time, shrunk and grown by the margin, and positions' zones.

A ring shrunk by the margin (``inner``) holds the positions deep inside it, the ring
grown by it (``outer``) every position not far outside (``geo.measure.buffer_m``:
geodesic metres). Both are built once per ring shape and margin and prepared, so a
position costs a box test and, near the ring, two point-in-polygon tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geo import measure
from layers.geofence.machine import Zone
from layers.perimeters.models import Perimeter, PerimeterRing
from layers.perimeters.rings import RING_ORDER, RingKind

FloatArray = npt.NDArray[np.float64]
NOT_IN_FORCE = -1  # a position's zone when the perimeter is not in force at its time


@dataclass(frozen=True)
class Band:
    """A ring shrunk (``inner``) and grown (``outer``) by the margin, prepared."""

    inner: BaseGeometry
    outer: BaseGeometry
    bounds: tuple[float, float, float, float]


@dataclass(frozen=True)
class FencedRing:
    """A ring of a perimeter in force at some time of the span, with its band."""

    perimeter_id: int
    perimeter_name: str
    kind: RingKind
    starts_at: float  # epoch seconds, both included
    ends_at: float
    band: Band

    @property
    def key(self) -> tuple[int, str]:
        """Return (perimeter id, ring kind): what states and alerts name the ring by."""
        return self.perimeter_id, self.kind.value


@lru_cache(maxsize=256)
def band_of(wkb: bytes, margin_m: float) -> Band:
    """Return the band of a ring's shape (WKB, WGS84) for a margin in metres.

    A ring narrower than twice the margin would vanish when shrunk: its own shape is
    then its inner part.
    """
    shape = shapely.from_wkb(wkb)
    inner, outer = shape, shape
    if margin_m > 0:
        shrunk = measure.buffer_m(shape, -margin_m)
        inner = shape if shrunk.is_empty else shrunk
        outer = measure.buffer_m(shape, margin_m)
    shapely.prepare(inner)
    shapely.prepare(outer)
    return Band(inner, outer, outer.bounds)


def rings_in_force(
    session: Session, start: datetime, end: datetime, margin_m: float
) -> list[FencedRing]:
    """Return the rings of every perimeter in force at some time from ``start`` to ``end``."""
    rows = session.execute(
        select(Perimeter.id, Perimeter.name, Perimeter.starts_at, Perimeter.ends_at,
               PerimeterRing.kind, func.ST_AsBinary(PerimeterRing.geom))
        .join(PerimeterRing, PerimeterRing.perimeter_id == Perimeter.id)
        .where(Perimeter.starts_at <= end, Perimeter.ends_at >= start)
    ).all()  # fmt: skip
    rings = [
        FencedRing(pid, name, RingKind(kind), starts.timestamp(), ends.timestamp(),
                   band_of(bytes(wkb), margin_m))
        for pid, name, starts, ends, kind, wkb in rows
    ]  # fmt: skip
    return sorted(rings, key=lambda r: (r.perimeter_id, RING_ORDER.index(r.kind)))


def zones(ring: FencedRing, lons: FloatArray, lats: FloatArray, times: FloatArray) -> np.ndarray:
    """Return each position's ``Zone`` towards the ring (``NOT_IN_FORCE`` outside its window)."""
    found = np.full(len(lons), int(Zone.OUT), dtype=np.int8)
    west, south, east, north = ring.band.bounds
    boxed = np.flatnonzero((lons >= west) & (lons <= east) & (lats >= south) & (lats <= north))
    if boxed.size:
        near = boxed[shapely.intersects_xy(ring.band.outer, lons[boxed], lats[boxed])]
        found[near] = Zone.EDGE
        deep = near[shapely.intersects_xy(ring.band.inner, lons[near], lats[near])]
        found[deep] = Zone.IN
    found[(times < ring.starts_at) | (times > ring.ends_at)] = NOT_IN_FORCE
    return found
