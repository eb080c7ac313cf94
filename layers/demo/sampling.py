"""Random points for the demo city: clustered round centres, along roads, uniform, in an area."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from layers.demo.geography import CENTRES

FloatArray = npt.NDArray[np.float64]
Points = tuple[FloatArray, FloatArray]
Draw = Callable[[np.random.Generator, int], Points]

# Jitter of points placed along a road: ~80 m, so they sit beside it, not on it.
ROAD_JITTER_DEG = 0.0008


def clustered(rng: np.random.Generator, n: int) -> Points:
    """Draw ``n`` points from the mixture of Gaussians around the city's centres."""
    weights = np.array([c.weight for c in CENTRES])
    which = rng.choice(len(CENTRES), size=n, p=weights / weights.sum())
    lon0 = np.array([c.lon for c in CENTRES])[which]
    lat0 = np.array([c.lat for c in CENTRES])[which]
    sigma = np.array([c.sigma for c in CENTRES])[which]
    # A degree of longitude is shorter than one of latitude here; keep clusters round.
    lon = lon0 + rng.normal(0.0, 1.0, n) * sigma * 1.3
    lat = lat0 + rng.normal(0.0, 1.0, n) * sigma
    return lon, lat


def uniform(rng: np.random.Generator, n: int, bounds: tuple[float, ...]) -> Points:
    """Draw ``n`` points uniformly in a ``(minx, miny, maxx, maxy)`` box."""
    minx, miny, maxx, maxy = bounds
    return rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n)


def along(
    rng: np.random.Generator, n: int, lines: npt.NDArray[np.object_], jitter_deg: float
) -> Points:
    """Draw ``n`` points along ``lines`` (weighted by length), jittered by ``jitter_deg``."""
    lengths = shapely.length(lines)
    which = rng.choice(len(lines), size=n, p=lengths / lengths.sum())
    points = shapely.line_interpolate_point(lines[which], rng.random(n), normalized=True)
    xy = shapely.get_coordinates(points)
    return (
        xy[:, 0] + rng.normal(0.0, jitter_deg, n),
        xy[:, 1] + rng.normal(0.0, jitter_deg, n),
    )


def mixed(rng: np.random.Generator, n: int, parts: list[tuple[float, Draw]]) -> Points:
    """Draw ``n`` points from several samplers, each taking its share of ``n``."""
    shares = np.array([share for share, _ in parts])
    counts = rng.multinomial(n, shares / shares.sum())
    drawn = [draw(rng, int(k)) for (_, draw), k in zip(parts, counts, strict=True)]
    lon = np.concatenate([d[0] for d in drawn])
    lat = np.concatenate([d[1] for d in drawn])
    order = rng.permutation(n)
    return lon[order], lat[order]


def within(rng: np.random.Generator, n: int, area: BaseGeometry, draw: Draw) -> Points:
    """Draw ``n`` points with ``draw``, keeping only those inside ``area`` (rejection)."""
    shapely.prepare(area)
    lons: list[FloatArray] = []
    lats: list[FloatArray] = []
    have = drawn = 0
    while have < n:
        rate = max(have / drawn, 0.005) if drawn else 0.5
        batch = max(int((n - have) / rate * 1.2), 1000)
        lon, lat = draw(rng, batch)
        keep = shapely.contains_xy(area, lon, lat)
        lons.append(lon[keep])
        lats.append(lat[keep])
        have += int(keep.sum())
        drawn += batch
    return np.concatenate(lons)[:n], np.concatenate(lats)[:n]
