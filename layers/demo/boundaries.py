"""Districts and precincts that tile the synthetic city exactly, built from Voronoi diagrams.

Districts are Voronoi cells of hand-placed seeds; precincts are Voronoi cells of
k-means centres of the expected activity inside each district. All edges (outline,
district and precinct) are noded once, snap-rounded to a 1e-7° grid, and polygonised:
every face is an atom of one planar arrangement, so neighbours share identical
vertices and PostGIS sees neither gaps nor overlaps.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import MultiPoint, MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from layers.demo.geography import DISTRICTS, OUTLINE
from layers.demo.sampling import FloatArray, clustered, mixed, uniform, within

GRID_DEG = 1e-7
_KMEANS_POINTS = 3000
_KMEANS_ROUNDS = 15


@dataclass(frozen=True)
class Boundaries:
    """The jurisdiction tiling: 16 districts (in ``DISTRICTS`` order) and their precincts."""

    outline: BaseGeometry
    districts: list[MultiPolygon]
    precincts: list[MultiPolygon]
    precinct_district: npt.NDArray[np.int64]


def build_boundaries(rng: np.random.Generator) -> Boundaries:
    """Build the outline, districts and precincts as one gap-free, overlap-free tiling."""
    outline = shapely.set_precision(Polygon(OUTLINE), GRID_DEG)
    frame = shapely.box(*shapely.buffer(outline, 0.5).bounds)
    seeds = np.array([seed for d in DISTRICTS for seed in d.seeds])
    seed_district = np.array([i for i, d in enumerate(DISTRICTS) for _ in d.seeds])
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=frame, ordered=True)
    )
    rough = [
        shapely.intersection(shapely.union_all(cells[seed_district == i]), outline)
        for i in range(len(DISTRICTS))
    ]
    precinct_seeds = [
        _precinct_seeds(rng, area, spec.precincts)
        for area, spec in zip(rough, DISTRICTS, strict=True)
    ]
    lines = [
        shapely.get_exterior_ring(outline),
        _edges(seeds, frame, outline),
        *(_edges(ps, frame, area) for ps, area in zip(precinct_seeds, rough, strict=True)),
    ]
    noded = shapely.unary_union(lines, grid_size=GRID_DEG)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    where = shapely.get_coordinates(shapely.point_on_surface(faces))
    face_district = seed_district[_nearest(where, seeds)]
    offsets = np.cumsum([0] + [len(ps) for ps in precinct_seeds])
    face_precinct = np.empty(len(faces), dtype=np.int64)
    for i, ps in enumerate(precinct_seeds):
        mine = face_district == i
        face_precinct[mine] = offsets[i] + _nearest(where[mine], ps)
    present = np.unique(face_precinct)
    precincts = [_merge(faces[face_precinct == p]) for p in present]
    precinct_district = np.searchsorted(offsets, present, side="right") - 1
    districts = [_merge(faces[face_district == i]) for i in range(len(DISTRICTS))]
    return Boundaries(
        outline=shapely.coverage_union_all(faces),
        districts=districts,
        precincts=precincts,
        precinct_district=precinct_district.astype(np.int64),
    )


def _precinct_seeds(rng: np.random.Generator, area: BaseGeometry, k: int) -> FloatArray:
    """Return ``k`` seeds: k-means centres of activity (with a uniform share) inside ``area``."""
    draw = partial(mixed, parts=[(0.6, clustered), (0.4, partial(uniform, bounds=area.bounds))])
    lon, lat = within(rng, _KMEANS_POINTS, area, draw)
    points = np.column_stack([lon, lat])
    centres = points[rng.choice(len(points), size=k, replace=False)]
    for _ in range(_KMEANS_ROUNDS):
        label = _nearest(points, centres)
        for j in range(k):
            members = points[label == j]
            if len(members):
                centres[j] = members.mean(axis=0)
    return centres


def _edges(seeds: FloatArray, frame: BaseGeometry, clip: BaseGeometry) -> BaseGeometry:
    """Return the Voronoi edges of ``seeds`` that lie inside ``clip``."""
    edges = shapely.voronoi_polygons(MultiPoint(seeds), extend_to=frame, only_edges=True)
    return shapely.intersection(edges, clip)


def _nearest(points: FloatArray, seeds: FloatArray) -> npt.NDArray[np.intp]:
    """Return, for each point, the index of the nearest seed."""
    d2 = ((points[:, None, :] - seeds[None, :, :]) ** 2).sum(axis=2)
    return np.argmin(d2, axis=1)


def _merge(faces: npt.NDArray[np.object_]) -> MultiPolygon:
    """Union faces of one coverage (shared edges dissolve exactly) into a MultiPolygon."""
    merged = shapely.coverage_union_all(faces)
    return MultiPolygon(list(shapely.get_parts(merged)))


def district_index(
    boundaries: Boundaries, lon: FloatArray, lat: FloatArray
) -> npt.NDArray[np.int64]:
    """Return the index (in ``DISTRICTS`` order) of the district holding each point, or -1."""
    out = np.full(len(lon), -1, dtype=np.int64)
    for i, district in enumerate(boundaries.districts):
        shapely.prepare(district)
        out[shapely.contains_xy(district, lon, lat)] = i
    return out
