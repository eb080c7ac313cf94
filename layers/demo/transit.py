"""Transit point layers of the demo city: rail stations (with line order) and bus stations."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from layers.demo.data import LayerData
from layers.demo.geography import RAIL_LINES
from layers.demo.names import STR, concat, external_ids, pick, place_names
from layers.demo.network import RailNetwork, station_points
from layers.demo.sampling import clustered, within

_STOP_SUFFIXES = (
    "路口", "东", "西", "南", "北", "桥东", "桥西", "桥南", "桥北", "小区", "东口", "西口", "南口",
    "北口", "",
)  # fmt: skip
_STOP_JITTER_DEG = 0.00025  # ~25 m: stops stand at the kerb, not on the centre line
_ROUTES = 999


def rail_stations(network: RailNetwork) -> tuple[LayerData, dict[str, list[int]]]:
    """Return the rail stations and, per line name, its station rows in travel order."""
    code: dict[int, str] = {}
    for spec, order in zip(RAIL_LINES, network.order, strict=True):
        for seq, k in enumerate(order, start=1):
            code.setdefault(k, f"{spec.code}{seq:02d}")
    n = len(network.stations)
    layer = LayerData("rail_stations", station_points(network), {
        "external_id": external_ids("R", n, 4),
        "name": np.array([s.name or "" for s in network.stations], dtype=STR),
        "code": np.array([code[k] for k in range(n)], dtype=STR),
        "lines": [[RAIL_LINES[i].name for i in sorted(s.lines)] for s in network.stations],
    })  # fmt: skip
    lines = {spec.name: order for spec, order in zip(RAIL_LINES, network.order, strict=True)}
    return layer, lines


def bus_stations(
    rng: np.random.Generator, n: int, roads: npt.NDArray[np.object_], outline: BaseGeometry
) -> LayerData:
    """Return ``n`` bus stops, two thirds along the main roads and the rest in busy areas."""
    n_road = (2 * n) // 3
    lengths = shapely.length(roads)
    road = rng.choice(len(roads), size=n_road, p=lengths / lengths.sum())
    xy = shapely.get_coordinates(
        shapely.line_interpolate_point(roads[road], rng.random(n_road), normalized=True)
    )
    lon = xy[:, 0] + rng.normal(0.0, _STOP_JITTER_DEG, n_road)
    lat = xy[:, 1] + rng.normal(0.0, _STOP_JITTER_DEG, n_road)
    outside = ~shapely.contains_xy(outline, lon, lat)
    local_lon, local_lat = within(rng, n - n_road + int(outside.sum()), outline, clustered)
    lon = np.concatenate([lon[~outside], local_lon])
    lat = np.concatenate([lat[~outside], local_lat])
    road = np.concatenate([road[~outside], np.full(len(local_lon), -1)])
    # Each road has its own pool of routes; a stop is served by a few of them.
    pools = [rng.choice(_ROUTES, size=rng.integers(6, 16), replace=False) + 1 for _ in roads]
    served = [
        rng.choice(pools[r], size=rng.integers(1, 5), replace=False)
        if r >= 0 else rng.choice(_ROUTES, size=rng.integers(1, 4), replace=False) + 1
        for r in road.tolist()
    ]  # fmt: skip
    return LayerData("bus_stations", np.asarray(shapely.points(lon, lat), dtype=object), {
        "external_id": external_ids("B", n, 6),
        "name": concat(place_names(rng, n), pick(rng, _STOP_SUFFIXES, n)),
        "code": np.strings.zfill(np.arange(1, n + 1).astype(STR), 6),
        "lines": [[f"{r}路" for r in sorted(routes.tolist())] for routes in served],
    })  # fmt: skip
