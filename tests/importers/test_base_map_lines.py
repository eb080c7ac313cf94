"""Base-map lines from real files: subway lines from GTFS stations, bus routes from a GCJ-02 CSV."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from geo.crs import convert
from geo.measure import distance_m
from importers.stop_lines import SECTION_ROUTES
from tests.importers.conftest import importer_on


def _stations_by_route(gtfs: Path) -> dict[str, list[tuple[float, float]]]:
    """Return the coordinates of each route's stations, read straight from stops.txt."""
    routes: dict[str, list[tuple[float, float]]] = defaultdict(list)
    with (gtfs / "stops.txt").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["location_type"] == "1" and row["stop_code"] and row["stop_lon"]:
                code = row["stop_code"][:2]
                point = (float(row["stop_lon"]), float(row["stop_lat"]))
                routes[SECTION_ROUTES.get(code, code)].append(point)
    return {route: points for route, points in routes.items() if len(points) > 1}


def test_subway_and_bus_lines_load_with_their_geometry_and_crs(
    shared_data: Path, scratch: sessionmaker[Session], tmp_path: Path
) -> None:
    run = importer_on(scratch, tmp_path)
    gtfs = shared_data / "subway_gtfs"
    expected = _stations_by_route(gtfs)

    rail = run(gtfs / "stops.txt", "rail_lines", table="lines")
    assert (rail.rows, rail.inserted, rail.rejected) == (len(expected), len(expected), 0)
    with scratch() as session:
        rows = session.execute(text(
            "SELECT external_id, name, colour, ST_AsBinary(geom), ST_NumGeometries(geom), "
            "ST_SRID(geom) FROM rail_lines"
        )).all()  # fmt: skip
    lines = {row[0]: row for row in rows}
    assert set(lines) == set(expected)
    assert lines["02"][1:3] == ("2号线", "#006098")
    rings = set()  # 8号线 has two stations at one place in the file: counts are of rows
    for route, (_, _, _, wkb, parts, srid) in lines.items():
        geom = shapely.from_wkb(bytes(wkb))
        vertices = {tuple(xy) for xy in shapely.get_coordinates(geom).tolist()}
        # every station of the route and nothing else, in WGS84 as the file gives them
        assert vertices == set(expected[route]), route
        assert (parts, srid) == (1, 4326), route
        closed = bool(shapely.is_closed(shapely.get_geometry(geom, 0)))
        rings |= {route} if closed else set()
        assert shapely.get_num_coordinates(geom) == len(expected[route]) + closed, route
    assert rings == {"02", "10"}

    bus = shared_data / "bus_line_stops_2012_gcj02.csv"
    with bus.open(encoding="utf-8") as handle:
        stops = list(csv.DictReader(handle))
    first = min((s for s in stops if s["line_id"] == "110100011384"), key=lambda s: int(s["seq"]))
    line_ids = {s["line_id"] for s in stops}
    roads = run(bus, "roads", table="lines", mapping={"kind": "'bus_route'"})
    assert (roads.rows, roads.inserted, roads.rejected) == (len(line_ids), len(line_ids), 0)
    with scratch() as session:
        total, kinds = session.execute(text(
            "SELECT sum(ST_NPoints(geom)), array_agg(DISTINCT kind) FROM roads"
        )).one()  # fmt: skip
        name, lon, lat = session.execute(text(
            "SELECT name, ST_X(ST_StartPoint(ST_GeometryN(geom, 1))), "
            "ST_Y(ST_StartPoint(ST_GeometryN(geom, 1))) FROM roads WHERE external_id = :id"
        ), {"id": "110100011384"}).one()  # fmt: skip
    assert (total, kinds) == (len(stops), ["bus_route"])
    assert name == first["line_name"]
    raw = float(first["lon_gcj02"]), float(first["lat_gcj02"])
    want = convert(*raw, "gcj02", "wgs84")
    assert distance_m(lon, lat, float(want[0]), float(want[1])) < 0.01
    assert distance_m(lon, lat, *raw) > 300  # converted, not taken as WGS84
