"""A vehicle feature follows its newest position: one set-based write for a batch's vehicles.

What the feature door does for one write is done here for many at once: the point, its
H3 cells, ``position_at``, a new version and ``updated_at`` in one UPDATE, then the
jurisdiction (``assign_jurisdiction``), a ``feature.updated`` event per vehicle and this
worker's tile cache told at commit. The vehicles table's statement triggers (migration
0002) tell every other worker's tile cache and queue nothing else (vehicles are not
clustered). A batch is audited once, by its door.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt
from shapely import box
from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from geo import hexes
from layers.accounts.scope import Actor
from layers.audit.models import Event
from layers.audit.service import lock_event_log
from layers.events import Change, announce_change_after_commit
from layers.features.jurisdiction import assign_jurisdiction
from layers.tracks.batch import Position

LAYER = "vehicles"

_MOVE = """
UPDATE vehicles AS v
SET geom = ST_SetSRID(ST_MakePoint(u.lon, u.lat), 4326), position_at = u.at,
    h3_cell = u.cell, h3_coarse = CAST(u.coarse AS bigint[]), version = v.version + 1,
    updated_at = now()
FROM unnest(CAST(:ids AS bigint[]), CAST(:ats AS timestamptz[]), CAST(:lons AS float8[]),
            CAST(:lats AS float8[]), CAST(:cells AS bigint[]), CAST(:coarse AS text[]))
     AS u(id, at, lon, lat, cell, coarse)
WHERE v.id = u.id
RETURNING v.id, v.version
"""


@dataclass(frozen=True)
class LastSeen:
    """A vehicle as a batch finds it (locked): its name, last position and when."""

    name: str
    position_at: datetime | None
    lon: float
    lat: float


@dataclass(frozen=True)
class Move:
    """A vehicle moved to a newer position: from where, to where, when, at which version."""

    vehicle_id: int
    version: int
    at: datetime
    was: tuple[float, float]
    now: tuple[float, float]
    speed_kmh: float | None
    heading_deg: float | None


def _coarse_texts(cells: npt.NDArray[np.int64], lons: npt.ArrayLike, lats: npt.ArrayLike
                  ) -> list[str]:  # fmt: skip
    rows = hexes.coarser_cells(lons, lats, cells)
    return ["{" + ",".join(map(str, row)) + "}" for row in rows.tolist()]


def move_vehicles(
    session: Session, newest: Sequence[Position], seen: Mapping[int, LastSeen]
) -> list[Move]:
    """Move each vehicle to its newest position of a batch (one position per vehicle)."""
    if not newest:
        return []
    ids = [p.vehicle_id for p in newest]
    lons = np.array([p.lon for p in newest], dtype=np.float64)
    lats = np.array([p.lat for p in newest], dtype=np.float64)
    cells = hexes.cells_of_points(lons, lats)
    versions: dict[int, int] = dict(session.execute(text(_MOVE), {
        "ids": ids, "ats": [p.at for p in newest], "lons": lons.tolist(), "lats": lats.tolist(),
        "cells": cells.tolist(), "coarse": _coarse_texts(cells, lons, lats),
    }).all())  # fmt: skip
    assign_jurisdiction(session, LAYER, ids)
    return [
        Move(p.vehicle_id, versions[p.vehicle_id], p.at,
             (seen[p.vehicle_id].lon, seen[p.vehicle_id].lat), (p.lon, p.lat),
             p.speed_kmh, p.heading_deg)
        for p in newest
    ]  # fmt: skip


def announce_moves(session: Session, moves: Sequence[Move], actor: Actor) -> None:
    """Append a ``feature.updated`` event per moved vehicle; tell this worker's tiles at commit."""
    if not moves:
        return
    boxes = [box(min(m.was[0], m.now[0]), min(m.was[1], m.now[1]),
                 max(m.was[0], m.now[0]), max(m.was[1], m.now[1])) for m in moves]  # fmt: skip
    lock_event_log(session)
    session.execute(insert(Event), [
        {"type": "feature.updated", "layer": LAYER, "feature_id": m.vehicle_id,
         "bbox": f"SRID=4326;{b.wkt}", "actor_id": actor.user_id,
         "payload": {"version": m.version, "position_at": m.at.astimezone(UTC).isoformat(),
                     "lon": m.now[0], "lat": m.now[1], "speed_kmh": m.speed_kmh,
                     "heading_deg": m.heading_deg}}
        for m, b in zip(moves, boxes, strict=True)
    ])  # fmt: skip
    west, south = min(b.bounds[0] for b in boxes), min(b.bounds[1] for b in boxes)
    east, north = max(b.bounds[2] for b in boxes), max(b.bounds[3] for b in boxes)
    announce_change_after_commit(session, Change(LAYER, (west, south, east, north)))
