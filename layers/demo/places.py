"""Area layers of the demo city: parks and scenic spots, construction sites, key station areas."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date
from functools import partial

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

from geo.measure import area_m2, buffer_m
from layers.demo.data import LayerData
from layers.demo.geography import FAMOUS_PARKS, M_PER_DEG_LAT, M_PER_DEG_LON, RAIL_LINES
from layers.demo.names import (
    STR,
    StrArray,
    brands,
    concat,
    external_ids,
    pick,
    place_names,
    unique_place_names,
)
from layers.demo.network import RailNetwork
from layers.demo.sampling import FloatArray, clustered, uniform, within

PARK_COUNT = 120
_URBAN_HOURS = ("06:00-22:00", "06:00-21:00", "05:30-22:30", "06:00-20:00")
_SCENIC_HOURS = ("08:00-17:30", "08:30-17:00", "07:30-18:00")
_CONTRACTORS = (
    "北京城建集团有限责任公司", "北京建工集团有限责任公司", "中建一局集团建设发展有限公司",
    "中国建筑第八工程局有限公司", "北京住总集团有限责任公司", "北京市政路桥股份有限公司",
)  # fmt: skip
_RAIL_CONTRACTORS = (
    *(f"中铁{n}局集团有限公司" for n in ("一", "三", "六", "十二", "十四", "十六", "二十二")),
    "北京城建轨道交通建设工程有限公司",
)
_SITE_KINDS = (
    "住宅项目", "商业综合体项目", "道路改造工程", "学校新建工程", "医院扩建工程", "管网改造工程",
    "产业园项目", "棚户区改造项目",
)  # fmt: skip


def as_multipolygons(geoms: npt.NDArray[np.object_]) -> npt.NDArray[np.object_]:
    """Return each geometry's polygons as one MultiPolygon."""
    return np.array(
        [MultiPolygon([p for p in shapely.get_parts(g) if isinstance(p, Polygon)]) for g in geoms],
        dtype=object,
    )


def _blobs(
    rng: np.random.Generator, lon: FloatArray, lat: FloatArray, area_km2: FloatArray
) -> npt.NDArray[np.object_]:
    """Return smooth organic polygons of ``area_km2`` around the points."""
    theta = np.linspace(0.0, 2.0 * math.pi, 33)[None, :]
    shape = np.ones((len(lon), 1))
    # Three low harmonics, amplitudes summing below 1: a wobbly, always star-shaped outline.
    for j in (1, 2, 3):
        amplitude = rng.uniform(0.0, 0.25 / j, (len(lon), 1))
        phase = rng.uniform(0.0, 2.0 * math.pi, (len(lon), 1))
        shape = shape + amplitude * np.cos(j * theta + phase)
    polar_area = 0.5 * (shape[:, :-1] ** 2).sum(axis=1) * (2.0 * math.pi / 32)
    radius_m = (np.sqrt(area_km2 * 1e6 / polar_area))[:, None] * shape
    coords = np.stack([
        lon[:, None] + radius_m * np.cos(theta) / M_PER_DEG_LON,
        lat[:, None] + radius_m * np.sin(theta) / M_PER_DEG_LAT,
    ], axis=-1)  # fmt: skip
    return np.asarray(shapely.polygons(coords), dtype=object)


def parks(rng: np.random.Generator, outline: BaseGeometry) -> LayerData:
    """Return ~120 parks and scenic spots: the famous ones plus made-up urban and rural ones."""
    inner = shapely.buffer(outline, -0.02)
    n_urban = int((PARK_COUNT - len(FAMOUS_PARKS)) * 0.7)
    n_scenic = PARK_COUNT - len(FAMOUS_PARKS) - n_urban
    urban = within(rng, n_urban, inner, clustered)
    scenic = within(rng, n_scenic, inner, partial(uniform, bounds=outline.bounds))
    taken = {name for name, *_ in FAMOUS_PARKS}
    names = [name for name, *_ in FAMOUS_PARKS]
    names += [p + s for p, s in zip(
        unique_place_names(rng, n_urban, taken),
        pick(rng, ("公园", "公园", "湿地公园", "森林公园", "体育公园"), n_urban).tolist(),
        strict=True,
    )]  # fmt: skip
    names += [p + s for p, s in zip(
        unique_place_names(rng, n_scenic, taken),
        pick(rng, ("风景区", "山风景区", "峡谷", "湖景区", "古镇"), n_scenic).tolist(),
        strict=True,
    )]  # fmt: skip
    lon = np.concatenate([[p[1] for p in FAMOUS_PARKS], urban[0], scenic[0]])
    lat = np.concatenate([[p[2] for p in FAMOUS_PARKS], urban[1], scenic[1]])
    area = np.concatenate([
        [p[3] for p in FAMOUS_PARKS],
        np.clip(rng.lognormal(math.log(0.3), 0.8, n_urban), 0.05, 2.0),
        np.clip(rng.lognormal(math.log(1.5), 0.6, n_scenic), 0.3, 5.0),
    ])  # fmt: skip
    kind = [p[4] for p in FAMOUS_PARKS] + ["park"] * n_urban + ["scenic_spot"] * n_scenic
    grade = [p[5] for p in FAMOUS_PARKS] + _grades(rng, n_urban, (0.0, 0.05, 0.10, 0.85))
    grade += _grades(rng, n_scenic, (0.05, 0.35, 0.40, 0.20))
    geoms = as_multipolygons(shapely.intersection(_blobs(rng, lon, lat, area), outline))
    km2 = np.array([area_m2(g) / 1e6 for g in geoms])
    hours = [pick(rng, _SCENIC_HOURS if k == "scenic_spot" else _URBAN_HOURS, 1)[0] for k in kind]
    return LayerData("parks", geoms, {
        "external_id": external_ids("K", len(geoms), 4),
        "name": np.array(names, dtype=STR),
        "kind": np.array(kind, dtype=STR),
        "capacity": (np.round((3000 + 15000 * np.sqrt(km2)) / 100) * 100).astype(np.int64),
        "grade": grade,
        "opening_hours": np.array(hours, dtype=STR),
    })  # fmt: skip


def _grades(rng: np.random.Generator, n: int, p: tuple[float, ...]) -> list[str | None]:
    """Return ``n`` scenic grades 5A/4A/3A/None with probabilities ``p``."""
    options: list[str | None] = ["5A", "4A", "3A", None]
    return [options[i] for i in rng.choice(4, size=n, p=p)]


def _rectangles(
    rng: np.random.Generator, lon: FloatArray, lat: FloatArray, width_m: FloatArray,
    height_m: FloatArray,
) -> npt.NDArray[np.object_]:  # fmt: skip
    """Return randomly rotated rectangles of the given size centred on the points."""
    theta = rng.uniform(0.0, math.pi, len(lon))[:, None]
    unit = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5], [-0.5, -0.5]])
    x = unit[None, :, 0] * width_m[:, None]
    y = unit[None, :, 1] * height_m[:, None]
    rx = x * np.cos(theta) - y * np.sin(theta)
    ry = x * np.sin(theta) + y * np.cos(theta)
    coords = np.stack(
        [lon[:, None] + rx / M_PER_DEG_LON, lat[:, None] + ry / M_PER_DEG_LAT], axis=-1
    )
    return np.asarray(shapely.polygons(coords), dtype=object)


def construction_sites(
    rng: np.random.Generator, n: int, outline: BaseGeometry, network: RailNetwork,
    district_of: Callable[[FloatArray, FloatArray], StrArray], today: date,
) -> LayerData:  # fmt: skip
    """Return ``n`` construction sites, a fifth of them rail works beside stations."""
    n_rail = n // 5
    at = rng.choice(len(network.stations), size=n_rail)
    station_xy = np.array([(s.lon, s.lat) for s in network.stations])[at]
    rail_lon = station_xy[:, 0] + rng.normal(0.0, 0.0015, n_rail)
    rail_lat = station_xy[:, 1] + rng.normal(0.0, 0.001, n_rail)
    lon, lat = within(rng, n - n_rail, shapely.buffer(outline, -0.01), clustered)
    lon, lat = np.concatenate([rail_lon, lon]), np.concatenate([rail_lat, lat])
    is_rail = np.arange(n) < n_rail
    width = np.where(is_rail, rng.uniform(150, 400, n), rng.uniform(60, 320, n))
    height = np.where(is_rail, rng.uniform(30, 70, n), rng.uniform(50, 250, n))
    geoms = as_multipolygons(
        shapely.intersection(_rectangles(rng, lon, lat, width, height), outline)
    )
    line_of = [RAIL_LINES[min(network.stations[k].lines)].name for k in at]
    station_name = [network.stations[k].name or "" for k in at]
    rail_name = np.array([f"{ln}{st}站" for ln, st in zip(line_of, station_name, strict=True)])
    places = place_names(rng, n)
    kinds = pick(rng, _SITE_KINDS, n)
    general = n - n_rail
    name = concat(places, kinds, "工地")
    name[:n_rail] = concat(rail_name.astype(STR), "轨建工地")
    project = concat("北京市", district_of(lon, lat), places, "地块", kinds)
    project[:n_rail] = concat("北京地铁", rail_name.astype(STR), "土建施工工程")
    contractor = np.concatenate([
        pick(rng, _RAIL_CONTRACTORS, n_rail),
        np.where(
            rng.random(general) < 0.5, pick(rng, _CONTRACTORS, general),
            concat("北京", brands(rng, general), "建设集团有限公司"),
        ).astype(STR),
    ])  # fmt: skip
    starts = np.datetime64(today) + rng.integers(-900, 60, n).astype("timedelta64[D]")
    ends = starts + rng.integers(120, 1200, n).astype("timedelta64[D]")
    return LayerData("construction_sites", geoms, {
        "external_id": external_ids("C", n, 6),
        "name": name,
        "project": project,
        "contractor": contractor,
        "is_rail": is_rail,
        "starts_on": starts,
        "ends_on": ends,
    })  # fmt: skip


def key_station_areas(rng: np.random.Generator, network: RailNetwork) -> LayerData:
    """Return the key station areas: railway stations, transfer stations and line termini."""
    termini = {o[0] for o, s in zip(network.order, RAIL_LINES, strict=True) if not s.loop}
    termini |= {o[-1] for o, s in zip(network.order, RAIL_LINES, strict=True) if not s.loop}
    picked: list[tuple[int, int]] = []
    for k, station in enumerate(network.stations):
        name = station.name or ""
        if name.endswith("站") or len(station.lines) >= 3:
            picked.append((k, 1))
        elif len(station.lines) == 2:
            picked.append((k, 2))
        elif k in termini:
            picked.append((k, 3))
    radius = {1: (600.0, 800.0), 2: (400.0, 600.0), 3: (300.0, 400.0)}
    geoms = [
        buffer_m(Point(network.stations[k].lon, network.stations[k].lat),
                 rng.uniform(*radius[level]))
        for k, level in picked
    ]  # fmt: skip
    stations = [network.stations[k].name or "" for k, _ in picked]
    return LayerData("key_station_areas", as_multipolygons(np.array(geoms, dtype=object)), {
        "external_id": external_ids("S", len(picked), 3),
        "name": np.array([s + ("区" if s.endswith("站") else "站区") for s in stations], dtype=STR),
        "station": np.array(stations, dtype=STR),
        "level": np.array([level for _, level in picked], dtype=np.int16),
    })  # fmt: skip
