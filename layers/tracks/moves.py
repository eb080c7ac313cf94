"""A vehicle feature follows its newest position: one set-based write for a batch's vehicles.

What the feature door does for one write is done here for many at once, in one UPDATE:
the point, its H3 cells, ``position_at``, a new version, ``updated_at`` and the
jurisdiction (the lowest-id precinct holding the point, the rule of
``layers.features.jurisdiction``); then a ``feature.updated`` event per vehicle, written
by one INSERT, and this worker's tile cache told at commit. The vehicles table's
statement triggers (migration 0002) tell every other worker's tile cache. A batch is
audited once, by its door.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo import hexes
from layers.accounts.scope import Actor
from layers.audit.service import lock_event_log
from layers.events import Change, announce_change_after_commit
from layers.tracks.arrays import array_text
from layers.tracks.batch import Position

LAYER = "vehicles"
FloatArray = npt.NDArray[np.float64]

_MOVE = """
UPDATE vehicles AS v
SET geom = u.point, position_at = u.at, h3_cell = u.cell,
    h3_coarse = CAST(u.coarse AS bigint[]), precinct_id = home.id,
    district_id = home.district_id, version = v.version + 1, updated_at = now()
FROM (SELECT *, ST_SetSRID(ST_MakePoint(lon, lat), 4326) AS point
      FROM unnest(CAST(:ids AS bigint[]), CAST(:ats AS timestamptz[]),
                  CAST(:lons AS float8[]), CAST(:lats AS float8[]), CAST(:cells AS bigint[]),
                  CAST(:coarse AS text[])) AS u(id, at, lon, lat, cell, coarse)) AS u
LEFT JOIN LATERAL (
    SELECT p.id, p.district_id FROM precincts AS p
    WHERE ST_Intersects(p.geom, u.point) ORDER BY p.id LIMIT 1
) AS home ON true
WHERE v.id = u.id
RETURNING v.id, v.version, v.district_id, v.precinct_id
"""
# The events name their vehicle's jurisdiction as just written: the event log's trigger
# (migration 0026) then looks up no row per event.
_EVENTS = """
INSERT INTO events (type, layer, feature_id, bbox, payload, actor_id, district_id, precinct_id)
SELECT 'feature.updated', :layer, m.id,
       ST_MakeEnvelope(least(m.was_lon, m.lon), least(m.was_lat, m.lat),
                       greatest(m.was_lon, m.lon), greatest(m.was_lat, m.lat), 4326),
       jsonb_build_object('version', m.version, 'position_at', m.at, 'lon', m.lon,
                          'lat', m.lat, 'speed_kmh', m.speed, 'heading_deg', m.heading),
       :actor, m.district, m.precinct
FROM unnest(CAST(:ids AS bigint[]), CAST(:versions AS integer[]),
            CAST(:ats AS timestamptz[]), CAST(:lons AS float8[]), CAST(:lats AS float8[]),
            CAST(:was_lons AS float8[]), CAST(:was_lats AS float8[]),
            CAST(:speeds AS real[]), CAST(:headings AS real[]),
            CAST(:districts AS bigint[]), CAST(:precincts AS bigint[]))
     WITH ORDINALITY AS m(id, version, at, lon, lat, was_lon, was_lat, speed, heading,
                          district, precinct, n)
ORDER BY m.n
"""


@dataclass(frozen=True)
class LastSeen:
    """A vehicle as a batch finds it (locked): its name, last position and when."""

    name: str
    position_at: datetime | None
    lon: float
    lat: float


@dataclass(frozen=True)
class Moves:
    """Vehicles moved to their newest positions: where they were, their new versions."""

    newest: Sequence[Position]
    versions: list[int]
    districts: list[int | None]
    precincts: list[int | None]
    was_lons: FloatArray
    was_lats: FloatArray


def _coarse_texts(cells: npt.NDArray[np.int64], lons: FloatArray, lats: FloatArray) -> list[str]:
    rows = hexes.coarser_cells(lons, lats, cells)
    return ["{" + ",".join(map(str, row)) + "}" for row in rows.tolist()]


def move_vehicles(
    session: Session, newest: Sequence[Position], seen: Mapping[int, LastSeen]
) -> Moves:
    """Move each vehicle to its newest position of a batch (one position per vehicle)."""
    ids = [p.vehicle_id for p in newest]
    lons = np.array([p.lon for p in newest], dtype=np.float64)
    lats = np.array([p.lat for p in newest], dtype=np.float64)
    written: dict[int, tuple[int, int | None, int | None]] = {}
    if newest:
        cells = hexes.cells_of_points(lons, lats)
        written = {vid: (version, district, precinct) for vid, version, district, precinct
                   in session.execute(text(_MOVE), {
            "ids": array_text(ids), "ats": array_text(p.at for p in newest),
            "lons": array_text(lons.tolist()), "lats": array_text(lats.tolist()),
            "cells": array_text(cells.tolist()),
            "coarse": array_text(_coarse_texts(cells, lons, lats)),
        })}  # fmt: skip
    return Moves(newest, [written[i][0] for i in ids], [written[i][1] for i in ids],
                 [written[i][2] for i in ids],
                 np.array([seen[i].lon for i in ids], dtype=np.float64),
                 np.array([seen[i].lat for i in ids], dtype=np.float64))  # fmt: skip


def announce_moves(session: Session, moves: Moves, actor: Actor) -> None:
    """Append a ``feature.updated`` event per moved vehicle; tell this worker's tiles at commit."""
    if not moves.newest:
        return
    lons = np.array([p.lon for p in moves.newest])
    lats = np.array([p.lat for p in moves.newest])
    lock_event_log(session)
    arrays = {
        "ids": [p.vehicle_id for p in moves.newest], "versions": moves.versions,
        "ats": [p.at for p in moves.newest], "lons": lons.tolist(), "lats": lats.tolist(),
        "was_lons": moves.was_lons.tolist(), "was_lats": moves.was_lats.tolist(),
        "speeds": [p.speed_kmh for p in moves.newest],
        "headings": [p.heading_deg for p in moves.newest], "districts": moves.districts,
        "precincts": moves.precincts,
    }  # fmt: skip
    session.execute(text(_EVENTS), {"layer": LAYER, "actor": actor.user_id,
                                    **{k: array_text(v) for k, v in arrays.items()}})  # fmt: skip
    every_x, every_y = np.r_[lons, moves.was_lons], np.r_[lats, moves.was_lats]
    bounds = (float(every_x.min()), float(every_y.min()), float(every_x.max()),
              float(every_y.max()))  # fmt: skip
    announce_change_after_commit(session, Change(LAYER, bounds))
