"""A vehicle's track over a window as lines with a time per vertex.

A silence longer than ``line_gap_s`` starts a new part (a MultiLineString then), so a
line never bridges a stop with the engine off or a tunnel. A window holding more than
``line_max_points`` positions is thinned evenly in the database (every k-th position,
each part's first and last always kept), so a week of 1 Hz positions is a few thousand
vertices on the wire, not 600,000.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from layers.accounts.scope import Actor
from layers.errors import InvalidInput
from layers.features.models import Vehicle
from layers.features.registry import get_layer
from layers.features.service import get_feature
from layers.settings import TrackSettings

DEFAULT_WINDOW = timedelta(hours=1)
_LINE = """
WITH windowed AS (
    SELECT lon, lat, at, coalesce(at - lag(at) OVER byat > :gap, false) AS breaks,
           row_number() OVER byat - 1 AS i, count(*) OVER () AS n
    FROM vehicle_positions
    WHERE vehicle_id = :vehicle AND at >= :since AND at <= :until
    WINDOW byat AS (ORDER BY at)
), parted AS (
    SELECT *, count(*) FILTER (WHERE breaks) OVER (ORDER BY at) AS part,
           coalesce(lead(breaks) OVER (ORDER BY at), true) AS ends_part
    FROM windowed
)
SELECT part, lon, lat, at, n FROM parted
WHERE i % greatest(1, ceil(n / CAST(:cap AS float8)))::bigint = 0 OR breaks OR ends_part
ORDER BY at
"""


@dataclass(frozen=True)
class TrackLine:
    """A track's parts (lon, lat vertices) with their times, and how many positions it shows."""

    vehicle: Vehicle
    since: datetime
    until: datetime
    parts: list[list[tuple[float, float]]]
    times: list[list[datetime]]
    positions: int  # in the window
    thinned: bool


def read_track(
    *, session: Session, vehicle_id: int, since: datetime | None, until: datetime | None,
    actor: Actor, limits: TrackSettings,
) -> TrackLine:  # fmt: skip
    """Return a vehicle's track from ``since`` (an hour before ``until``) to ``until`` (now)."""
    until = until or datetime.now(UTC)
    since = since or until - DEFAULT_WINDOW
    if until <= since:
        raise InvalidInput(f"the window ends ({until.isoformat()}) before it starts "
                           f"({since.isoformat()})")  # fmt: skip
    vehicle = get_feature(session=session, spec=get_layer("vehicles"), feature_id=vehicle_id,
                          actor=actor)  # fmt: skip
    assert isinstance(vehicle, Vehicle)
    rows = session.execute(text(_LINE), {
        "vehicle": vehicle_id, "since": since, "until": until,
        "gap": timedelta(seconds=limits.line_gap_s), "cap": limits.line_max_points,
    }).all()  # fmt: skip
    parts: dict[int, tuple[list[tuple[float, float]], list[datetime]]] = {}
    for part, lon, lat, at, _ in rows:
        coords, times = parts.setdefault(part, ([], []))
        coords.append((lon, lat))
        times.append(at)
    total = rows[0].n if rows else 0
    for coords, times in parts.values():
        if len(coords) == 1:  # a lone position: a line needs two vertices
            coords.append(coords[0])
            times.append(times[0])
    return TrackLine(vehicle, since, until, [c for c, _ in parts.values()],
                     [t for _, t in parts.values()], total, len(rows) < total)  # fmt: skip
