"""Format details without a database: KMZ, GeoPackage tables, sheets, mapping files, CRS."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
from openpyxl import Workbook
from shapely import Point

from geo.crs import wgs84_to_bd09
from importers.base import ReadOptions, load_importer
from importers.crs import parse_crs, plausibility_warnings, to_wgs84
from importers.mapping import build_mapping, load_map_file
from importers.places import Places
from layers.errors import InvalidInput
from layers.features.registry import get_layer

TIANANMEN = (116.3912, 39.9073)


def _frame(name: str) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"Name": [name]}, geometry=[Point(*TIANANMEN)], crs="EPSG:4326")


def test_kmz_is_unpacked_and_read(tmp_path: Path) -> None:
    _frame("天安门").to_file(tmp_path / "doc.kml", driver="KML", engine="pyogrio")
    kmz = tmp_path / "field.kmz"
    with zipfile.ZipFile(kmz, "w") as zf:
        zf.write(tmp_path / "doc.kml", "doc.kml")
    table = load_importer(kmz, ReadOptions()).read()
    assert table.format == "kml" and list(table.columns["Name"]) == ["天安门"]
    assert table.geometry is not None and table.geometry[0].equals(Point(*TIANANMEN))


def test_gbk_csv_with_blanks_quotes_and_duplicate_headers(tmp_path: Path) -> None:
    path = tmp_path / "单位.csv"
    rows = ["名称, 地址, 名称", '朝阳门派出所, "东城区\n朝阳门内大街", 甲', "东直门医院,,乙", ""]
    path.write_bytes("\n".join(rows).encode("gbk"))
    table = load_importer(path, ReadOptions()).read()
    assert table.encoding == "gb18030"
    assert list(table.columns.columns) == ["名称", "地址", "名称.1"]
    assert list(table.columns["名称"]) == ["朝阳门派出所", "东直门医院"]
    assert list(table.columns["地址"]) == ["东城区\n朝阳门内大街", ""]
    broken = tmp_path / "broken.csv"
    broken.write_text("a,b\n1,2,3\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"cannot read broken\.csv"):
        load_importer(broken, ReadOptions()).read()


def test_geopackage_with_several_tables_needs_table(tmp_path: Path) -> None:
    path = tmp_path / "gis.gpkg"
    _frame("a").to_file(path, layer="first", engine="pyogrio")
    _frame("b").to_file(path, layer="second", engine="pyogrio")
    with pytest.raises(InvalidInput, match="--table: first, second"):
        load_importer(path, ReadOptions()).read()
    table = load_importer(path, ReadOptions(table="second")).read()
    assert list(table.columns["Name"]) == ["b"]


def test_xlsx_sheet_is_chosen_with_table(tmp_path: Path) -> None:
    book = Workbook()
    book.active.title = "说明"
    sheet = book.create_sheet("单位")
    sheet.append(["单位名称", "经度", "纬度"])
    sheet.append(["甲", 116.39, 39.91])
    path = tmp_path / "units.xlsx"
    book.save(path)
    table = load_importer(path, ReadOptions(table="单位")).read()
    assert list(table.columns.iloc[0]) == ["甲", "116.39", "39.91"]
    with pytest.raises(InvalidInput, match="no sheet"):
        load_importer(path, ReadOptions(table="nope")).read()


@pytest.mark.parametrize("suffix", [".json", ".txt"])
def test_saved_mapping_files(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"map{suffix}"
    if suffix == ".json":
        path.write_text('{"name": "单位名称", "category": "\'bank\'", "lon": "X", "lat": "Y"}')
    else:
        path.write_text("name=单位名称\ncategory='bank'\nlon=X\nlat=Y\n")
    given = load_map_file(path)
    csv = tmp_path / "u.csv"
    csv.write_text("单位名称,X,Y\n甲,116.39,39.91\n", encoding="utf-8")
    table = load_importer(csv, ReadOptions()).read()
    mapping = build_mapping(get_layer("units"), table, given, None)
    assert mapping.as_dict() == {"name": "单位名称", "category": "'bank'", "lon": "X", "lat": "Y"}


def test_mapping_errors_name_the_columns(tmp_path: Path) -> None:
    csv = tmp_path / "u.csv"
    csv.write_text("名字,地点\n甲,北京\n", encoding="utf-8")
    table = load_importer(csv, ReadOptions()).read()
    with pytest.raises(InvalidInput, match=r"no coordinate columns.*columns: 名字, 地点"):
        build_mapping(get_layer("units"), table, {}, None)
    with pytest.raises(InvalidInput, match="no attribute colour"):
        build_mapping(get_layer("units"), table, {"colour": "名字"}, None)


def test_bd09_and_projected_coordinates() -> None:
    lon, lat = wgs84_to_bd09(*TIANANMEN)
    for given in (Places.of_points([lon], [lat]), Places.of_shapes([Point(lon, lat)])):
        back = to_wgs84(given, parse_crs("bd09")).as_shapes()[0]
        assert abs(back.x - TIANANMEN[0]) < 1e-7 and abs(back.y - TIANANMEN[1]) < 1e-7
    metres = Places.of_points([39_500_000], [4_420_000])
    warnings = plausibility_warnings(metres, parse_crs("wgs84"), "x.csv")
    assert any("projected" in w for w in warnings)
    with pytest.raises(InvalidInput, match="unknown coordinate system"):
        parse_crs("mars")
