"""Real Beijing files from ../shared/beijing_geodata go in with their own CRS and quirks."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from geo.measure import distance_m
from importers.base import ReadOptions, load_importer
from importers.crs import parse_crs, to_wgs84
from importers.places import Places
from tests.importers.conftest import Counter, Importer


def _with_ids(src: Path, dest: Path, prefix: str, id_key: str | None) -> Path:
    """Copy a GeoJSON file adding ``xid`` = prefix + its id (or its index)."""
    document = json.loads(src.read_text(encoding="utf-8"))
    for i, feature in enumerate(document["features"]):
        props = feature["properties"]
        props["xid"] = f"{prefix}{props[id_key] if id_key else i}"
    dest.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return dest


def test_hospitals_in_gcj02_load_as_units_and_reimport_updates(
    shared_data: Path,
    run: Importer,
    count: Counter,
    prefix: str,
    tmp_path: Path,
    session_factory: sessionmaker[Session],
) -> None:
    path = _with_ids(
        shared_data / "hospitals_gcj02.geojson", tmp_path / "hospitals_gcj02.geojson", prefix, "id"
    )
    mapping = {"category": "'hospital'", "address": "fullName"}
    first = run(path, "units", crs="gcj02", id_field="xid", mapping=mapping)
    assert (first.rows, first.inserted, first.rejected, first.warnings) == (44, 44, 0, [])
    assert count("units", prefix) == 44
    with session_factory() as session:
        lon, lat, version = session.execute(
            text("SELECT ST_X(geom), ST_Y(geom), version FROM units WHERE external_id = :id"),
            {"id": f"{prefix}bj001"},
        ).one()
    # 北京协和医院: 116.415911, 39.912392 in GCJ-02 is about 116.4097, 39.9111 in WGS84.
    assert distance_m(lon, lat, 116.40966, 39.91110) < 30
    assert version == 1
    again = run(path, "units", crs="gcj02", id_field="xid", mapping=mapping, mode="upsert")
    assert (again.inserted, again.updated) == (0, 44)
    assert count("units", prefix) == 44
    with session_factory() as session:
        versions = session.scalars(
            text("SELECT DISTINCT version FROM units WHERE external_id LIKE :p"),
            {"p": prefix + "%"},
        ).all()
    assert versions == [2]
    duplicate = run(path, "units", crs="gcj02", id_field="xid", mapping=mapping)
    assert duplicate.inserted == 0 and duplicate.rejected == 44
    assert "exists already" in next(iter(duplicate.reasons))


def test_gcj02_file_read_as_wgs84_is_flagged(shared_data: Path, run: Importer) -> None:
    report = run(
        shared_data / "hospitals_gcj02.geojson",
        "units",
        dry_run=True,
        mapping={"category": "'hospital'"},
    )
    assert report.status == "dry-run"
    assert any("--crs gcj02" in w for w in report.warnings)


def test_district_boundaries_in_wgs84_and_gcj02_agree_after_conversion(shared_data: Path) -> None:
    wgs = load_importer(shared_data / "beijing_districts_wgs84.geojson", ReadOptions()).read()
    gcj = load_importer(
        shared_data / "beijing_districts_datav_hires_gcj02.geojson", ReadOptions()
    ).read()
    assert wgs.geometry is not None and gcj.geometry is not None
    converted = to_wgs84(Places.of_shapes(gcj.geometry), parse_crs("gcj02")).as_shapes()
    by_name = dict(zip(wgs.columns["name"], wgs.geometry, strict=True))
    for name, geom in zip(gcj.columns["name"], converted, strict=True):
        a, b = shapely.centroid(geom), shapely.centroid(by_name[name])
        assert distance_m(a.x, a.y, b.x, b.y) < 20, name
        raw = shapely.centroid(gcj.geometry[list(gcj.columns["name"]).index(name)])
        assert distance_m(raw.x, raw.y, b.x, b.y) > 100, name  # unconverted, it is off


def test_district_polygons_load_with_h3_cover(
    shared_data: Path,
    run: Importer,
    count: Counter,
    prefix: str,
    tmp_path: Path,
    session_factory: sessionmaker[Session],
) -> None:
    path = _with_ids(
        shared_data / "beijing_districts_datav_hires_gcj02.geojson",
        tmp_path / "districts_gcj02.geojson",
        prefix,
        "adcode",
    )
    report = run(path, "construction_sites", crs="gcj02", id_field="xid")
    assert (report.inserted, report.rejected) == (16, 0)
    with session_factory() as session:
        row = session.execute(
            text(
                "SELECT count(*) FILTER (WHERE cardinality(h3_cover) > 0 AND h3_cell IS NOT NULL "
                "AND ST_IsValid(geom)), count(*) FROM construction_sites WHERE external_id LIKE :p"
            ),
            {"p": prefix + "%"},
        ).one()
    assert tuple(row) == (16, 16)


def test_subway_stations_geojson(
    shared_data: Path, run: Importer, count: Counter, prefix: str, tmp_path: Path
) -> None:
    path = _with_ids(
        shared_data / "subway_stations_osm_wgs84.geojson",
        tmp_path / "subway.geojson",
        prefix,
        "stop_id",
    )
    report = run(path, "rail_stations", id_field="xid", mapping={"code": "stop_code"})
    assert (report.rows, report.inserted, report.rejected, report.warnings) == (511, 511, 0, [])
    assert count("rail_stations", prefix) == 511


def test_gtfs_stops_with_empty_coordinates_are_rejected(
    shared_data: Path, run: Importer, count: Counter, prefix: str, tmp_path: Path
) -> None:
    stops = pd.read_csv(shared_data / "subway_gtfs" / "stops.txt", dtype=str)
    stops["stop_id"] = prefix + stops["stop_id"]
    path = tmp_path / "stops.txt"
    stops.to_csv(path, index=False)
    report = run(path, "rail_stations")
    assert report.format == "gtfs" and report.mapping["external_id"] == "stop_id"
    assert (report.rows, report.inserted, report.rejected) == (513, 511, 2)
    assert count("rail_stations", prefix) == 511
    rejects = pd.read_csv(report.reject_file, dtype=str, keep_default_na=False)
    assert len(rejects) == 2 and list(rejects.columns) == [*stops.columns, "reject_reason"]
    assert rejects["reject_reason"].str.contains("no coordinates").all()
    every = run(path, "rail_stations", table="all", dry_run=True)
    assert (every.rows, every.rejected) == (2658, 5 + 511)  # 511 stations exist already


def test_bus_stops_geojson_in_gcj02_dry_run(shared_data: Path, run: Importer) -> None:
    report = run(
        shared_data / "bus_stops_2012_gcj02.geojson", "bus_stations", crs="gcj02", dry_run=True
    )
    assert report.rows == 18_832 and report.rejected == 0 and report.warnings == []
    assert report.mapping["lines"] == "lines"


def test_bus_line_stops_csv_detects_gcj02_columns(shared_data: Path, run: Importer) -> None:
    report = run(
        shared_data / "bus_line_stops_2012_gcj02.csv",
        "bus_stations",
        crs="gcj02",
        mapping={"name": "stop_name"},
        dry_run=True,
    )
    assert (report.mapping["lon"], report.mapping["lat"]) == ("lon_gcj02", "lat_gcj02")
    assert report.rows == 57_960 and report.rejected == 0
