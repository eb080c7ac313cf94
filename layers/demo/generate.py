"""Generate the deterministic demo city: every feature layer for a seed, no database involved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

import numpy as np
import numpy.typing as npt
import shapely

from layers.demo.activity import incidents, vehicles
from layers.demo.basemap import rail_line_layer, road_layer, water_layer
from layers.demo.boundaries import Boundaries, build_boundaries, district_index
from layers.demo.data import CityData, LayerData
from layers.demo.geography import CITY_CODE, DISTRICTS
from layers.demo.names import STR, StrArray, external_ids, unique_place_names
from layers.demo.network import build_rail, roads
from layers.demo.operators import name_transit_companies
from layers.demo.places import construction_sites, key_station_areas, parks
from layers.demo.sampling import Draw, FloatArray, along, clustered, mixed, uniform, within
from layers.demo.transit import bus_stations, rail_stations
from layers.demo.units import GAS_STATION, categories, unit_columns

DEFAULT_UNITS = 20_000
DEFAULT_SEED = 2008
DISTRICT_NAMES = np.array([d.name for d in DISTRICTS], dtype=STR)
DISTRICT_CODES = np.array([d.code for d in DISTRICTS], dtype=STR)
_BEIJING = timedelta(hours=8)


def layer_sizes(units: int) -> dict[str, int]:
    """Return how many rows the N-dependent layers get for ``units`` units."""
    return {
        "units": units,
        "bus_stations": min(20_000, max(300, units // 10)),
        "construction_sites": max(30, units // 200),
        "incidents": max(200, units // 20),
        "vehicles": max(100, units // 40),
    }


def generate_city(
    units: int = DEFAULT_UNITS, seed: int = DEFAULT_SEED, reference_time: datetime | None = None
) -> CityData:
    """Return the demo city of ``units`` units for ``seed``; time layers end at ``reference_time``.

    ``reference_time`` defaults to now; a naive datetime is taken as UTC. The same
    arguments always give the same city, and boundaries and transit do not depend on
    ``units``.
    """
    when = reference_time or datetime.now(UTC)
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    reference = np.datetime64(when.astimezone(UTC).replace(tzinfo=None), "s")
    rng = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(10)]
    sizes = layer_sizes(units)
    boundaries = build_boundaries(rng[0])
    network = build_rail(rng[1])
    outline = boundaries.outline
    shapely.prepare(outline)
    road_lines = np.array([road.geom for road in roads()], dtype=object)
    spread: Draw = partial(
        mixed,
        parts=[
            (0.80, clustered),
            (0.15, partial(along, lines=road_lines, jitter_deg=0.0008)),
            (0.05, partial(uniform, bounds=outline.bounds)),
        ],
    )

    def district_of(lon: FloatArray, lat: FloatArray) -> StrArray:
        return DISTRICT_NAMES[district_index(boundaries, lon, lat)]

    park_layer = parks(rng[4], outline)
    rail_layer, rail_lines = rail_stations(network)
    precinct_layer = _precincts(rng[2], boundaries)
    layers = [
        _districts(boundaries),
        precinct_layer,
        _units(rng[3], units, boundaries, spread, road_lines),
        park_layer,
        rail_layer,
        bus_stations(rng[5], sizes["bus_stations"], road_lines, outline),
        construction_sites(
            rng[6],
            sizes["construction_sites"],
            outline,
            network,
            district_of,
            (when + _BEIJING).date(),
        ),
        key_station_areas(rng[7], network),
        incidents(rng[8], sizes["incidents"], outline, spread, reference),
        vehicles(
            rng[9],
            sizes["vehicles"],
            outline,
            road_lines,
            shapely.get_coordinates(shapely.centroid(park_layer.geom)),
            shapely.get_coordinates(shapely.point_on_surface(precinct_layer.geom)),
            reference,
        ),
        water_layer(outline),
        rail_line_layer(),
        road_layer(),
    ]
    return CityData(seed=seed, reference_time=when, layers=layers, rail_lines=rail_lines)


def _districts(boundaries: Boundaries) -> LayerData:
    """Return the 16 districts."""
    return LayerData("districts", np.array(boundaries.districts, dtype=object), {
        "external_id": np.strings.add("D", DISTRICT_CODES),
        "name": DISTRICT_NAMES,
        "code": DISTRICT_CODES,
        "parent_code": np.full(len(DISTRICTS), CITY_CODE, dtype=STR),
    })  # fmt: skip


def _precincts(rng: np.random.Generator, boundaries: Boundaries) -> LayerData:
    """Return the precincts, numbered north to south inside each district."""
    geoms = np.array(boundaries.precincts, dtype=object)
    north = shapely.get_coordinates(shapely.point_on_surface(geoms))[:, 1]
    order = np.lexsort((-north, boundaries.precinct_district))
    geoms, district = geoms[order], boundaries.precinct_district[order]
    seq = np.ones(len(geoms), dtype=np.int64)
    for i in range(1, len(geoms)):
        seq[i] = seq[i - 1] + 1 if district[i] == district[i - 1] else 1
    code = np.strings.add(DISTRICT_CODES[district], np.strings.zfill(seq.astype(STR), 3))
    names = unique_place_names(rng, len(geoms), set())
    return LayerData("precincts", geoms, {
        "external_id": np.strings.add("P", code),
        "name": np.strings.add(np.array(names, dtype=STR), "派出所"),
        "code": code,
        "parent_code": DISTRICT_CODES[district],
    })  # fmt: skip


def _units(
    rng: np.random.Generator, n: int, boundaries: Boundaries, spread: Draw,
    road_lines: npt.NDArray[np.object_],
) -> LayerData:  # fmt: skip
    """Return ``n`` units spread like the city's activity; gas stations stand by the roads.

    The first are the city's named transit companies (``layers.demo.operators``).
    """
    category = categories(rng, n)
    gas = category == GAS_STATION
    lon = np.empty(n)
    lat = np.empty(n)
    lon[~gas], lat[~gas] = within(rng, int((~gas).sum()), boundaries.outline, spread)
    lon[gas], lat[gas] = within(
        rng, int(gas.sum()), boundaries.outline,
        partial(along, lines=road_lines, jitter_deg=0.0004),
    )  # fmt: skip
    district = district_index(boundaries, lon, lat)
    columns = unit_columns(rng, category, DISTRICT_NAMES[district], DISTRICT_CODES[district])
    name_transit_companies(columns, lon, lat)
    return LayerData(
        "units",
        np.asarray(shapely.points(lon, lat), dtype=object),
        {"external_id": external_ids("U", n, 7), **columns},
    )
