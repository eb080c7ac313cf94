"""Positions of features through the hysteresis, against every ring in force: states and alerts.

The caller holds the features' rows locked (a track batch its vehicles, the write door
its incident), so one feature's positions are weighed by one transaction at a time and
each crossing raises exactly one alert. Positions must be newer than any weighed before
(a track batch passes only those after its vehicles' last position): a late position is
kept in the track but moves no state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt
from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import BigInteger, Text, any_, cast, literal, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from layers.accounts.scope import Actor
from layers.audit.service import lock_event_log
from layers.geofence.bands import NOT_IN_FORCE, FencedRing, rings_in_force, zones
from layers.geofence.inbox import send_alert_messages
from layers.geofence.machine import OUTSIDE, Standing, Zone, walk
from layers.geofence.models import GeofenceAlert, GeofenceState
from layers.tracks.arrays import array_text

FloatArray = npt.NDArray[np.float64]
IdArray = npt.NDArray[np.int64]
StateKey = tuple[int, int, str]  # feature, perimeter, ring
RingKey = tuple[int, str]  # perimeter, ring


@dataclass(frozen=True)
class Rules:
    """The hysteresis: metres beyond a ring's edge, seconds beyond it before a crossing counts."""

    margin_m: float
    dwell_s: float


@dataclass(frozen=True)
class Sightings:
    """Positions of features of one layer, sorted by feature, then time (epoch seconds)."""

    layer: str
    feature_ids: IdArray
    times: FloatArray
    lons: FloatArray
    lats: FloatArray
    names: Mapping[int, str]

    def runs(self) -> dict[int, slice]:
        """Return each feature's slice of the positions."""
        ids = self.feature_ids
        starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]]) if ids.size else ids
        ends = np.r_[starts[1:], ids.size]
        return {int(ids[s]): slice(int(s), int(e)) for s, e in zip(starts, ends, strict=True)}


def _instant(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _states(session: Session, sightings: Sightings, rings: Sequence[FencedRing]
            ) -> dict[RingKey, dict[int, Standing]]:  # fmt: skip
    """Return the stored standings of the sighted features, by ring, then feature."""
    rows = session.execute(
        select(GeofenceState.feature_id, GeofenceState.perimeter_id, GeofenceState.ring,
               GeofenceState.inside, GeofenceState.pending_since)
        .where(GeofenceState.layer == sightings.layer,
               GeofenceState.feature_id == any_(cast(literal(
                   array_text(np.unique(sightings.feature_ids).tolist()), Text),
                   ARRAY(BigInteger))),
               GeofenceState.perimeter_id.in_({r.perimeter_id for r in rings}))
    )  # fmt: skip
    found: dict[RingKey, dict[int, Standing]] = {}
    for fid, pid, ring, inside, since in rows:
        found.setdefault((pid, ring), {})[fid] = Standing(
            inside, since.timestamp() if since else None
        )
    return found


def _alert(sightings: Sightings, ring: FencedRing, index: int, entered: bool,
           since: float) -> GeofenceAlert:  # fmt: skip
    lon, lat = float(sightings.lons[index]), float(sightings.lats[index])
    fid = int(sightings.feature_ids[index])
    return GeofenceAlert(
        kind="enter" if entered else "exit", perimeter_id=ring.perimeter_id,
        perimeter_name=ring.perimeter_name, ring=ring.kind.value, layer=sightings.layer,
        feature_id=fid, feature_name=sightings.names.get(fid, ""),
        geom=from_shape(Point(lon, lat), srid=4326), at=_instant(sightings.times[index]),
        since=_instant(since),
    )  # fmt: skip


# Many states in one statement: its values as one array parameter each (``array_text``).
_SAVE_STATES = """
INSERT INTO geofence_states AS s (layer, feature_id, perimeter_id, ring, inside, pending_since,
                                  seen_at)
SELECT :layer, * FROM unnest(CAST(:features AS bigint[]), CAST(:perimeters AS bigint[]),
                             CAST(:rings AS text[]), CAST(:inside AS boolean[]),
                             CAST(:pending AS timestamptz[]), CAST(:seen AS timestamptz[]))
ON CONFLICT (layer, feature_id, perimeter_id, ring) DO UPDATE
SET inside = EXCLUDED.inside, pending_since = EXCLUDED.pending_since, seen_at = EXCLUDED.seen_at
"""


def _save_states(session: Session, layer: str,
                 changed: Mapping[StateKey, tuple[Standing, float]]) -> None:  # fmt: skip
    if not changed:
        return
    rows = sorted(changed.items())  # in key order: batches of other features never wait in a circle
    session.execute(text(_SAVE_STATES), {
        "layer": layer, "features": array_text(fid for (fid, _, _), _ in rows),
        "perimeters": array_text(pid for (_, pid, _), _ in rows),
        "rings": array_text(ring for (_, _, ring), _ in rows),
        "inside": array_text(s.inside for _, (s, _) in rows),
        "pending": array_text(None if s.pending_since is None else _instant(s.pending_since)
                              for _, (s, _) in rows),
        "seen": array_text(_instant(seen) for _, (_, seen) in rows),
    })  # fmt: skip


def _weigh(ring: FencedRing, sightings: Sightings, runs: Mapping[int, slice],
           stored: Mapping[int, Standing], rules: Rules,
           ) -> tuple[dict[int, tuple[Standing, float]], list[GeofenceAlert]]:  # fmt: skip
    """Walk each feature near the ring (or inside it, or pending) through its positions.

    Return the standings that changed (with the time of the last position weighed) and
    the alerts of the crossings.
    """
    found = zones(ring, sightings.lons, sightings.lats, sightings.times)
    pending = {fid for fid, s in stored.items() if s.inside or s.pending_since is not None}
    changed: dict[int, tuple[Standing, float]] = {}
    alerts: list[GeofenceAlert] = []
    for fid in sorted(set(sightings.feature_ids[found > Zone.OUT].tolist()) | pending):
        run = runs[fid]
        weighed = np.flatnonzero(found[run] != NOT_IN_FORCE) + run.start
        if not weighed.size:
            continue
        before = stored.get(fid, OUTSIDE)
        after, crossed = walk(before, [Zone(z) for z in found[weighed].tolist()],
                              sightings.times[weighed].tolist(), rules.dwell_s)  # fmt: skip
        if after != before:
            changed[fid] = after, float(sightings.times[weighed[-1]])
        entered = not before.inside
        for crossing in crossed:
            alerts.append(_alert(sightings, ring, int(weighed[crossing.index]), entered,
                                 crossing.since))  # fmt: skip
            entered = not entered
    return changed, alerts


def follow(session: Session, sightings: Sightings, rules: Rules) -> list[GeofenceAlert]:
    """Weigh the positions against the rings in force; save states; return the new alerts.

    The alerts are stored (with ids), in time order; ``announce_alerts`` appends their
    events.
    """
    if not sightings.feature_ids.size:
        return []
    rings = rings_in_force(session, _instant(float(sightings.times.min())),
                           _instant(float(sightings.times.max())), rules.margin_m)  # fmt: skip
    if not rings:
        return []
    states, runs = _states(session, sightings, rings), sightings.runs()
    changed: dict[StateKey, tuple[Standing, float]] = {}
    alerts: list[GeofenceAlert] = []
    for ring in rings:
        moved, raised = _weigh(ring, sightings, runs, states.get(ring.key, {}), rules)
        changed.update({(fid, *ring.key): standing for fid, standing in moved.items()})
        alerts.extend(raised)
    _save_states(session, sightings.layer, changed)
    alerts.sort(key=lambda a: (a.at, a.feature_id, a.perimeter_id, a.ring))
    session.add_all(alerts)
    session.flush()
    return alerts


def alert_payload(alert: GeofenceAlert) -> dict[str, object]:
    """Return what an alert's event says: the alert, its perimeter, ring and feature, when."""
    return {
        "alert_id": alert.id, "kind": alert.kind, "perimeter_id": alert.perimeter_id,
        "perimeter_name": alert.perimeter_name, "ring": alert.ring,
        "feature_name": alert.feature_name, "at": alert.at.isoformat(),
        "since": alert.since.isoformat(),
    }  # fmt: skip


# The payload of alert_payload, for many alerts in one statement (a perimeter coming into
# force with hundreds of vehicles inside raises hundreds at once).
_EVENTS = """
INSERT INTO events (type, layer, feature_id, bbox, payload, actor_id)
SELECT 'geofence.' || a.kind, a.layer, a.feature_id,
       ST_MakeEnvelope(ST_X(a.geom), ST_Y(a.geom), ST_X(a.geom), ST_Y(a.geom), 4326),
       jsonb_build_object('alert_id', a.id, 'kind', a.kind, 'perimeter_id', a.perimeter_id,
                          'perimeter_name', a.perimeter_name, 'ring', a.ring,
                          'feature_name', a.feature_name, 'at', a.at, 'since', a.since),
       :actor
FROM geofence_alerts AS a WHERE a.id = ANY(CAST(:ids AS bigint[])) ORDER BY a.id
"""


def announce_alerts(session: Session, alerts: Sequence[GeofenceAlert], actor: Actor) -> None:
    """Append a ``geofence.enter`` or ``geofence.exit`` event for each alert, in order.

    Each alert also reaches the inbox of everyone it concerns (``layers.geofence.inbox``).
    """
    if alerts:
        ids = [a.id for a in alerts]
        send_alert_messages(session, ids)
        lock_event_log(session)
        session.execute(text(_EVENTS), {"ids": ids, "actor": actor.user_id})


def forget_deleted_perimeters(session: Session) -> int:
    """Delete the states of perimeters deleted since; return how many went."""
    gone = session.execute(text(
        "DELETE FROM geofence_states AS s WHERE NOT EXISTS "
        "(SELECT FROM perimeters AS p WHERE p.id = s.perimeter_id)"
    ))  # fmt: skip
    return int(gone.rowcount or 0)  # type: ignore[attr-defined]
