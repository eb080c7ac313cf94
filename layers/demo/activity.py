"""Live layers of the demo city: incidents of the past week and vehicles of the last hour."""

from __future__ import annotations

from functools import partial

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from layers.demo.data import LayerData
from layers.demo.names import STR, concat, external_ids, plates, road_names
from layers.demo.sampling import Draw, FloatArray, along, clustered, mixed, within

INCIDENT_CATEGORIES = (
    "theft", "fight", "fraud", "traffic", "fire", "dispute", "missing_person", "other",
)  # fmt: skip
INCIDENT_WEIGHTS = np.array([0.25, 0.08, 0.15, 0.20, 0.04, 0.15, 0.03, 0.10])
INCIDENT_WORDS = np.array(
    ["盗窃", "打架斗殴", "诈骗", "交通事故", "火情", "纠纷", "人员走失", "其他"], dtype=STR
)
# Relative incident rate by hour of the day, Beijing time: quiet before dawn, busy at night.
_HOURLY = np.array([
    5, 4, 3, 2, 2, 2, 3, 5, 7, 8, 8, 8, 8, 8, 8, 8, 9, 10, 10, 10, 10, 9, 8, 6,
], dtype=np.float64)  # fmt: skip
_BEIJING_OFFSET_S = 8 * 3600
_WEEK_S = 7 * 86400

VEHICLE_KINDS = ("taxi", "rental", "bus", "tour_bus", "police")
_VEHICLE_WEIGHTS = np.array([0.45, 0.25, 0.15, 0.08, 0.07])


def incidents(
    rng: np.random.Generator, n: int, outline: BaseGeometry, draw: Draw,
    reference: np.datetime64,
) -> LayerData:  # fmt: skip
    """Return ``n`` incidents of the week before ``reference`` (UTC), placed like units."""
    lon, lat = within(rng, n, outline, draw)
    age_s = _ages(rng, n, reference)
    category = rng.choice(len(INCIDENT_CATEGORIES), size=n, p=INCIDENT_WEIGHTS)
    # Recent incidents are still open or being handled; a day later most are closed.
    hours = age_s / 3600.0
    p_open = np.where(hours < 2, 0.7, np.where(hours < 24, 0.15, 0.03))
    p_handling = np.where(hours < 2, 0.3, np.where(hours < 24, 0.45, 0.07))
    u = rng.random(n)
    status = np.where(u < p_open, "open", np.where(u < p_open + p_handling, "handling", "closed"))
    return LayerData("incidents", np.asarray(shapely.points(lon, lat), dtype=object), {
        "external_id": external_ids("E", n, 7),
        "name": concat(road_names(rng, n), INCIDENT_WORDS[category], "警情"),
        "category": np.array(INCIDENT_CATEGORIES, dtype=STR)[category],
        "level": (1 + rng.choice(4, size=n, p=[0.45, 0.35, 0.15, 0.05])).astype(np.int16),
        "status": status.astype(STR),
        "occurred_at": reference - age_s.astype("timedelta64[s]"),
    })  # fmt: skip


def _ages(rng: np.random.Generator, n: int, reference: np.datetime64) -> npt.NDArray[np.int64]:
    """Return ``n`` ages in seconds within a week, following the hourly incident rate."""
    ref_s = int(reference.astype("datetime64[s]").astype(np.int64))
    kept: list[npt.NDArray[np.int64]] = []
    have = 0
    while have < n:
        age = rng.integers(0, _WEEK_S, 2 * (n - have) + 16)
        hour = ((ref_s - age + _BEIJING_OFFSET_S) // 3600) % 24
        keep = rng.random(len(age)) < _HOURLY[hour] / _HOURLY.max()
        kept.append(age[keep])
        have += int(keep.sum())
    return np.concatenate(kept)[:n]


def vehicles(
    rng: np.random.Generator, n: int, outline: BaseGeometry, roads: npt.NDArray[np.object_],
    parks: FloatArray, stations: FloatArray, reference: np.datetime64,
) -> LayerData:  # fmt: skip
    """Return ``n`` vehicles seen in the hour before ``reference``, by roads, parks and stations."""
    kind = rng.choice(len(VEHICLE_KINDS), size=n, p=_VEHICLE_WEIGHTS)
    on_roads: Draw = partial(along, lines=roads, jitter_deg=0.0003)
    draws: list[Draw] = [
        partial(mixed, parts=[(0.6, on_roads), (0.4, clustered)]),
        partial(mixed, parts=[(0.5, on_roads), (0.5, clustered)]),
        on_roads,
        partial(_near, centres=parks, sigma_deg=0.004),
        partial(_near, centres=stations, sigma_deg=0.01),
    ]
    lon = np.empty(n)
    lat = np.empty(n)
    for k, draw in enumerate(draws):
        rows = kind == k
        lon[rows], lat[rows] = within(rng, int(rows.sum()), outline, draw)
    plate = plates(rng, n, kind == VEHICLE_KINDS.index("police"))
    return LayerData("vehicles", np.asarray(shapely.points(lon, lat), dtype=object), {
        "external_id": external_ids("V", n, 6),
        "name": plate,
        "plate": plate,
        "kind": np.array(VEHICLE_KINDS, dtype=STR)[kind],
        "position_at": reference - rng.integers(0, 3600, n).astype("timedelta64[s]"),
    })  # fmt: skip


def _near(
    rng: np.random.Generator, n: int, centres: FloatArray, sigma_deg: float
) -> tuple[FloatArray, FloatArray]:
    """Draw ``n`` points scattered around randomly chosen ``centres`` (an (m, 2) array)."""
    at = centres[rng.integers(0, len(centres), n)]
    return at[:, 0] + rng.normal(0.0, sigma_deg, n), at[:, 1] + rng.normal(0.0, sigma_deg, n)
