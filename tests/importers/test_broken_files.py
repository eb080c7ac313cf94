"""Self-made broken files: each gets a clear message and nothing is half-written."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely import Point

from importers.base import ReadOptions, load_importer
from layers.errors import InvalidInput
from tests.importers.conftest import Counter, Importer

TIANANMEN = (116.3912, 39.9073)  # WGS84


def _geojson(path: Path, features: list[tuple[dict[str, object] | None, dict[str, str]]]) -> Path:
    document = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "geometry": g, "properties": p} for g, p in features],
    }
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


def test_bad_geometries_are_repaired_or_rejected_with_reasons(
    run: Importer, count: Counter, prefix: str, tmp_path: Path
) -> None:
    lon, lat = TIANANMEN
    bowtie = {
        "type": "Polygon",
        "coordinates": [
            [[lon, lat], [lon + 0.01, lat + 0.01], [lon + 0.01, lat], [lon, lat + 0.01], [lon, lat]]
        ],
    }
    square = {
        "type": "Polygon",
        "coordinates": [
            [[lon, lat], [lon + 0.01, lat], [lon + 0.01, lat + 0.01], [lon, lat + 0.01], [lon, lat]]
        ],
    }
    paris = {
        "type": "Polygon",
        "coordinates": [[[2.35, 48.85], [2.36, 48.85], [2.36, 48.86], [2.35, 48.85]]],
    }
    point = {"type": "Point", "coordinates": [lon, lat]}
    rows = [
        (bowtie, "bowtie"),
        (square, "square"),
        (paris, "paris"),
        (point, "point"),
        (None, "nothing"),
        ({"type": "Polygon", "coordinates": "x"}, "garbage"),
    ]
    path = _geojson(
        tmp_path / "sites.geojson", [(g, {"id": prefix + n, "name": n}) for g, n in rows]
    )
    report = run(path, "construction_sites", id_field="id")
    assert (report.inserted, report.rejected) == (2, 4)  # the bowtie is repaired
    assert count("construction_sites", prefix) == 2
    rejects = gpd.read_file(report.reject_file)
    reasons = dict(zip(rejects["name"], rejects["reject_reason"], strict=True))
    assert reasons["paris"].startswith("outside China")
    assert reasons["point"].startswith("wrong geometry type POINT")
    assert reasons["nothing"] == reasons["garbage"] == "no geometry"


def test_swapped_coordinate_columns_are_flagged_and_nothing_loads(
    run: Importer, count: Counter, prefix: str, tmp_path: Path
) -> None:
    path = tmp_path / "units.csv"
    pd.DataFrame(
        {
            "编号": [prefix + "1", prefix + "2"],
            "名称": ["甲", "乙"],
            "类别": "bank",
            "经度": [39.91, 39.92],
            "纬度": [116.39, 116.40],
        }
    ).to_csv(path, index=False)
    report = run(path, "units", id_field="编号")
    assert any("swapped" in w for w in report.warnings)
    assert report.inserted == 0 and report.rejected == 2
    assert count("units", prefix) == 0


def _shapefile(tmp_path: Path, prefix: str, *, crs: str | None, encoding: str) -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame(
        {
            "编号": [prefix + "a", prefix + "b"],
            "名称": ["朝阳门派出所", "东直门医院"],
            "类别": ["government", "hospital"],
        },
        geometry=[Point(116.4345, 39.9243), Point(116.4255, 39.9414)],
        crs="EPSG:4326",
    )
    out = frame.to_crs(crs) if crs else frame
    out.to_file(tmp_path / "units.shp", encoding=encoding, engine="pyogrio")
    return frame


def _zip(tmp_path: Path, drop: tuple[str, ...] = ()) -> Path:
    archive = tmp_path / "units.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in tmp_path.glob("units.*"):
            if part.suffix not in {".zip", *drop}:
                zf.write(part, part.name)
    return archive


def test_gbk_shapefile_without_cpg_is_detected(
    run: Importer, count: Counter, prefix: str, tmp_path: Path
) -> None:
    _shapefile(tmp_path, prefix, crs=None, encoding="GBK")
    report = run(_zip(tmp_path, drop=(".cpg",)), "units", id_field="编号")
    assert any("gb18030 detected" in n for n in report.notes)
    assert (report.inserted, report.rejected) == (2, 0)
    assert count("units", prefix) == 2


def test_projected_cgcs2000_gauss_kruger_prj_is_reprojected(tmp_path: Path, prefix: str) -> None:
    frame = _shapefile(tmp_path, prefix, crs="EPSG:4527", encoding="UTF-8")  # GK zone 39
    table = load_importer(_zip(tmp_path), ReadOptions()).read()
    assert table.crs is not None and table.crs.to_epsg() == 4527
    from importers.crs import resolve_crs, to_wgs84
    from importers.places import Places

    assert table.geometry is not None
    back = to_wgs84(Places.of_shapes(table.geometry), resolve_crs(table.crs, None)).as_shapes()
    assert all(p.distance(q) < 1e-7 for p, q in zip(back, frame.geometry, strict=True))


def test_missing_prj_is_noted_and_read_as_wgs84(run: Importer, prefix: str, tmp_path: Path) -> None:
    _shapefile(tmp_path, prefix, crs=None, encoding="UTF-8")
    report = run(_zip(tmp_path, drop=(".prj",)), "units", id_field="编号", dry_run=True)
    assert any("no .prj" in n for n in report.notes)
    assert report.rejected == 0


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "is empty"),
        ("header.csv", "名称,经度,纬度\n".encode(), "holds no rows"),
        ("empty.geojson", b"", "not valid JSON"),
        ("none.geojson", b'{"type": "FeatureCollection", "features": []}', "holds no rows"),
        ("notazip.zip", b"PK nonsense", "not a valid zip"),
        ("data.dbf", b"x", "unsupported file type"),
    ],
)
def test_empty_and_unreadable_files_get_a_clear_message(
    run: Importer, tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InvalidInput, match=message):
        run(path, "units", mapping={"category": "'bank'"})


def test_zip_bomb_is_refused_before_unpacking(run: Importer, tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("units.shp", b"\0" * (64 * 1024**2))
    with pytest.raises(InvalidInput, match="zip bomb"):
        run(bomb, "units")
    assert not list(tmp_path.glob("**/units.shp"))


def test_duplicated_ids_keep_the_first_and_reject_the_rest(
    run: Importer, count: Counter, prefix: str, tmp_path: Path
) -> None:
    path = tmp_path / "units.csv"
    pd.DataFrame(
        {
            "id": [prefix + "1", prefix + "1", prefix + "2"],
            "name": ["a", "b", "c"],
            "category": "bank",
            "lng": 116.39,
            "lat": 39.91,
        }
    ).to_csv(path, index=False)
    report = run(path, "units", id_field="id")
    assert (report.inserted, report.rejected) == (2, 1)
    assert report.reasons == {"duplicate id in the file": 1}
    assert count("units", prefix) == 2


def test_bad_attribute_values_are_rejected_per_row_and_strict_loads_nothing(
    run: Importer, count: Counter, prefix: str, tmp_path: Path
) -> None:
    path = tmp_path / "units.csv"
    pd.DataFrame(
        {
            "id": [f"{prefix}{i}" for i in range(4)],
            "名称": ["a", "b", "", "d"],
            "类别": ["bank", "spaceport", "bank", "bank"],
            "风险等级": ["2", "3", "1", "九"],
            "x": 116.39,
            "y": 39.91,
        }
    ).to_csv(path, index=False)
    strict = run(path, "units", id_field="id", strict=True)
    assert strict.status == "refused" and strict.rejected == 3 and count("units", prefix) == 0
    dry = run(path, "units", id_field="id", dry_run=True)
    assert dry.status == "dry-run" and count("units", prefix) == 0
    report = run(path, "units", id_field="id")
    assert (report.inserted, report.rejected) == (1, 3)
    rejects = pd.read_csv(report.reject_file, dtype=str, keep_default_na=False)
    assert list(rejects["reject_reason"]) == [
        "category: must be one of "
        + ", ".join(
            (
                "company",
                "school",
                "hospital",
                "mall",
                "hotel",
                "gas_station",
                "bank",
                "government",
                "transit_operator",
                "factory",
            )
        ),
        "name: is required",
        "risk_level: must be a whole number",
    ]
