"""A batch of GPS positions as arrays, and the checks that refuse it whole.

A feed's batch is taken whole or not at all: one bad position (from the future beyond
the clock-skew allowance, older than the retention, at 0,0 — a receiver without a fix
—, outside China, a speed or heading out of range) refuses the batch with every problem
named, before anything is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

from geo.validate import CHINA_BOUNDS
from layers.errors import InvalidInput, PayloadTooLarge
from layers.settings import TrackSettings

FloatArray = npt.NDArray[np.float64]
IdArray = npt.NDArray[np.int64]
SHOWN_PROBLEMS = 20  # named in the answer; the count says how many more


@dataclass(frozen=True)
class Position:
    """One position a feed reports: WGS84 degrees, km/h, degrees clockwise from north."""

    vehicle_id: int
    at: datetime
    lon: float
    lat: float
    speed_kmh: float | None = None
    heading_deg: float | None = None


@dataclass(frozen=True)
class PositionBatch:
    """A batch as arrays (``times`` in epoch seconds), with the positions themselves."""

    positions: Sequence[Position]
    vehicle_ids: IdArray
    times: FloatArray
    lons: FloatArray
    lats: FloatArray
    speeds: FloatArray  # NaN where none was given
    headings: FloatArray

    @classmethod
    def of(cls, positions: Sequence[Position]) -> PositionBatch:
        """Return the arrays of ``positions``."""

        def floats(values: list[float | None]) -> FloatArray:
            return np.array([np.nan if v is None else v for v in values], dtype=np.float64)

        return cls(
            positions,
            np.array([p.vehicle_id for p in positions], dtype=np.int64),
            np.array([p.at.timestamp() for p in positions], dtype=np.float64),
            floats([p.lon for p in positions]), floats([p.lat for p in positions]),
            floats([p.speed_kmh for p in positions]), floats([p.heading_deg for p in positions]),
        )  # fmt: skip

    def __len__(self) -> int:
        return len(self.positions)


def _problems(batch: PositionBatch, limits: TrackSettings, now: datetime) -> list[str]:
    """Return what is wrong with each refused position, in batch order."""
    lons, lats, speeds, headings = batch.lons, batch.lats, batch.speeds, batch.headings
    min_lon, min_lat, max_lon, max_lat = CHINA_BOUNDS
    with np.errstate(invalid="ignore"):
        checks: list[tuple[npt.NDArray[np.bool_], str]] = [
            (~(np.isfinite(lons) & np.isfinite(lats)), "lon and lat must be finite numbers"),
            ((lons == 0) & (lats == 0), "0,0 is a receiver without a fix, not a place"),
            (~((lons >= min_lon) & (lons <= max_lon) & (lats >= min_lat) & (lats <= max_lat)),
             "lies outside China (WGS84 lon {0:g}..{2:g}, lat {1:g}..{3:g})".format(
                 *CHINA_BOUNDS)),
            (batch.times > (now + timedelta(seconds=limits.clock_skew_s)).timestamp(),
             f"lies in the future (more than {limits.clock_skew_s:g} s ahead of the server)"),
            (batch.times < (now - timedelta(days=limits.retention_days)).timestamp(),
             f"is older than the retention of {limits.retention_days} days"),
            (~np.isnan(speeds) & ~((speeds >= 0) & (speeds <= limits.max_speed_kmh)),
             f"speed_kmh must be 0..{limits.max_speed_kmh:g}"),
            (~np.isnan(headings) & ~((headings >= 0) & (headings < 360)),
             "heading_deg must be at least 0 and below 360"),
        ]  # fmt: skip
    found: list[tuple[int, str]] = []
    for failed, reason in checks:
        found.extend((int(i), reason) for i in np.flatnonzero(failed))
    found.sort(key=lambda item: item[0])
    return [_named(batch.positions[i], i, reason) for i, reason in found]


def _named(position: Position, index: int, reason: str) -> str:
    return (f"positions[{index}] (vehicle {position.vehicle_id} at "
            f"{position.at.isoformat()}): {reason}")  # fmt: skip


def check_batch(batch: PositionBatch, limits: TrackSettings, now: datetime) -> None:
    """Raise ``PayloadTooLarge`` or ``InvalidInput`` naming every refused position, if any."""
    if len(batch) > limits.max_batch:
        raise PayloadTooLarge(f"a batch holds at most {limits.max_batch:,} positions, this one "
                              f"{len(batch):,}; send it in parts")  # fmt: skip
    if not len(batch):
        raise InvalidInput("the batch holds no positions")
    problems = _problems(batch, limits, now)
    if problems:
        named = "; ".join(problems[:3]) + ("; ..." if len(problems) > 3 else "")
        raise InvalidInput(
            f"{len(problems)} of the {len(batch)} positions are refused and nothing was "
            f"saved: {named}", problems=problems[:SHOWN_PROBLEMS],
        )  # fmt: skip


def unknown_vehicles(batch: PositionBatch, known: set[int]) -> InvalidInput | None:
    """Return the refusal of a batch naming vehicles not in ``known``, or None."""
    unknown = sorted(set(batch.vehicle_ids.tolist()) - known)
    if not unknown:
        return None
    shown = ", ".join(map(str, unknown[:SHOWN_PROBLEMS]))
    return InvalidInput(f"unknown vehicles (no such vehicle that you may see): {shown}; "
                        "nothing was saved", vehicle_ids=unknown[:SHOWN_PROBLEMS])  # fmt: skip
