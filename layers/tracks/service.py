"""The one door for GPS positions: permission, checks, storage, last positions, geofence, audit.

A batch is checked whole before anything is written. Its vehicles are locked (in id
order, so two batches never wait on each other in a circle): batches of the same
vehicle take turns, which is what makes their geofence alerts exactly one per crossing.
A resent position (same vehicle and instant) is a no-op; a late one is stored in time
order but moves neither the vehicle nor its geofence states (it is older than what
they have seen).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import BigInteger, Text, any_, cast, func, literal, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from layers.accounts.roles import Permission
from layers.accounts.scope import Actor
from layers.audit.service import audited_denials, record_audit
from layers.features.models import Vehicle
from layers.geofence.follow import Rules, Sightings, announce_alerts, follow
from layers.settings import GeofenceSettings, TrackSettings
from layers.tracks.arrays import array_text, numbers_text
from layers.tracks.batch import (
    IdArray,
    Position,
    PositionBatch,
    check_batch,
    unknown_vehicles,
)
from layers.tracks.moves import LastSeen, announce_moves, move_vehicles
from layers.tracks.partitions import ensure_partitions, utc_day

# Times as epoch seconds: what a batch holds already, and read faster than timestamps.
# A batch without a resend (the usual one) needs only how many rows were stored: the
# stored keys come back only when some were not (sending back every key cost more than
# storing it).
_STORE = """
WITH stored AS (
    INSERT INTO vehicle_positions (vehicle_id, at, lon, lat, speed_kmh, heading_deg)
    SELECT id, to_timestamp(t), lon, lat, speed, heading
    FROM unnest(CAST(:ids AS bigint[]), CAST(:times AS float8[]), CAST(:lons AS float8[]),
                CAST(:lats AS float8[]), CAST(:speeds AS real[]), CAST(:headings AS real[]))
         AS u(id, t, lon, lat, speed, heading)
    ON CONFLICT DO NOTHING
    RETURNING vehicle_id, extract(epoch FROM at) AS t
)
SELECT count(*), CASE WHEN count(*) < :expected THEN array_agg(vehicle_id) END,
       CASE WHEN count(*) < :expected THEN array_agg(t) END
FROM stored
"""


@dataclass(frozen=True)
class IngestReport:
    """What a batch did: positions received and newly stored, vehicles moved, alerts raised."""

    received: int
    stored: int
    vehicles: int
    moved: int
    alert_ids: list[int]


def _lock_vehicles(session: Session, batch: PositionBatch, actor: Actor) -> dict[int, LastSeen]:
    """Lock the batch's vehicles the actor may see, in id order; return how each was last seen."""
    ids = cast(literal(array_text(sorted(set(batch.vehicle_ids.tolist()))), Text),
               ARRAY(BigInteger))  # fmt: skip
    rows = session.execute(
        select(Vehicle.id, Vehicle.name, Vehicle.position_at, func.ST_X(Vehicle.geom),
               func.ST_Y(Vehicle.geom))
        .where(Vehicle.id == any_(ids), actor.scope.clause(Vehicle))
        .order_by(Vehicle.id).with_for_update(of=Vehicle)
    )  # fmt: skip
    return {vid: LastSeen(name, at, lon, lat) for vid, name, at, lon, lat in rows}


def _firsts(batch: PositionBatch) -> IdArray:
    """Return the index of each position's first occurrence in the batch (by vehicle and time)."""
    keys = np.rec.fromarrays([batch.vehicle_ids, batch.times])
    _, first = np.unique(keys, return_index=True)
    return np.sort(first)


def _store(session: Session, batch: PositionBatch) -> list[int]:
    """Insert the positions; return the indexes of those newly stored (not resent)."""
    firsts = _firsts(batch)
    count, ids, times = session.execute(text(_STORE), {
        "ids": numbers_text(batch.vehicle_ids), "times": numbers_text(batch.times),
        "lons": numbers_text(batch.lons), "lats": numbers_text(batch.lats),
        "speeds": numbers_text(batch.speeds), "headings": numbers_text(batch.headings),
        "expected": int(firsts.size),
    }).one()  # fmt: skip
    if count == firsts.size:
        return firsts.tolist()
    # the exact epoch seconds stored, rounded as the batch's own (Python's) are
    stored = set(zip(ids or [], map(float, times or []), strict=True))
    return [int(i) for i in firsts
            if (int(batch.vehicle_ids[i]), float(batch.times[i])) in stored]  # fmt: skip


def _after_last_seen(batch: PositionBatch, fresh: Sequence[int], seen: dict[int, LastSeen]
                     ) -> np.ndarray:  # fmt: skip
    """Return the fresh positions newer than their vehicle's last, by vehicle, then time."""
    picked = np.asarray(fresh, dtype=np.int64)
    last = {v: s.position_at.timestamp() if s.position_at else -np.inf for v, s in seen.items()}
    last_of = np.array([last[v] for v in batch.vehicle_ids[picked].tolist()])
    newer = picked[batch.times[picked] > last_of]
    return newer[np.lexsort((batch.times[newer], batch.vehicle_ids[newer]))]


def _sightings(batch: PositionBatch, order: np.ndarray, seen: dict[int, LastSeen]) -> Sightings:
    return Sightings("vehicles", batch.vehicle_ids[order], batch.times[order],
                     batch.lons[order], batch.lats[order],
                     {v: s.name for v, s in seen.items()})  # fmt: skip


def ingest_positions(
    *, session: Session, positions: Sequence[Position], actor: Actor, tracks: TrackSettings,
    geofence: GeofenceSettings, now: datetime | None = None,
) -> IngestReport:  # fmt: skip
    """Store a batch of positions whole or refuse it; move vehicles; raise geofence alerts."""
    with audited_denials(session, actor, "tracks.ingest", "tracks", None):
        actor.require(Permission.TRACKS_WRITE)
    batch = PositionBatch.of(positions)
    check_batch(batch, tracks, now or datetime.now(UTC))
    ensure_partitions(session, {utc_day(p.at) for p in positions})
    seen = _lock_vehicles(session, batch, actor)
    refusal = unknown_vehicles(batch, set(seen))
    if refusal is not None:
        raise refusal
    fresh = _store(session, batch)
    order = _after_last_seen(batch, fresh, seen)
    ids = batch.vehicle_ids[order]
    newest = order[np.r_[ids[1:] != ids[:-1], True]] if order.size else order
    moves = move_vehicles(session, [positions[i] for i in newest.tolist()], seen)
    alerts = follow(session, _sightings(batch, order, seen),
                    Rules(geofence.margin_m, geofence.dwell_s))  # fmt: skip
    # the event log's lock orders every writer until commit: taken last, held briefly
    announce_moves(session, moves, actor)
    announce_alerts(session, alerts, actor)
    report = IngestReport(len(positions), len(fresh), len(seen), len(moves.newest),
                          [a.id for a in alerts])  # fmt: skip
    record_audit(session, actor=actor, action="tracks.ingest", target_type="tracks", after={
        **asdict(report), "from": min(p.at for p in positions).isoformat(),
        "to": max(p.at for p in positions).isoformat(),
    })  # fmt: skip
    return report
