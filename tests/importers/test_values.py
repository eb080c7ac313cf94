"""Every attribute type reaches the database as typed, through the binary COPY stream."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.importers.conftest import Importer

SQUARE = {
    "type": "Polygon",
    "coordinates": [[[116.39, 39.90], [116.40, 39.90], [116.40, 39.91], [116.39, 39.91],
                     [116.39, 39.90]]],
}  # fmt: skip
POINT = {"type": "Point", "coordinates": [116.3912, 39.9073]}


def _write(path: Path, geometry: dict[str, object], rows: list[dict[str, object]]) -> Path:
    features = [{"type": "Feature", "geometry": geometry, "properties": r} for r in rows]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features},
                               ensure_ascii=False), encoding="utf-8")  # fmt: skip
    return path


@pytest.mark.parametrize(
    ("layer", "geometry", "given", "stored"),
    [
        ("units", POINT,
         {"name": "北京\"银行\"\\支行", "category": "bank", "risk_level": "4", "is_key_unit": "是",
          "credit_code": "", "address": "东城区"},
         {"name": "北京\"银行\"\\支行", "category": "bank", "risk_level": 4, "is_key_unit": True,
          "credit_code": None, "address": "东城区"}),
        ("rail_stations", POINT,
         {"name": "天安门东", "lines": "1号线，8号线, \"机场线\""},
         {"name": "天安门东", "lines": ["1号线", "8号线", '"机场线"']}),
        ("bus_stations", POINT, {"name": "无线路"}, {"name": "无线路", "lines": []}),
        ("construction_sites", SQUARE,
         {"name": "地铁工地", "is_rail": "false", "starts_on": "2026-03-01", "ends_on": ""},
         {"name": "地铁工地", "is_rail": False, "starts_on": date(2026, 3, 1), "ends_on": None}),
        ("incidents", POINT,
         {"name": "盗窃", "category": "theft", "level": "2",
          "occurred_at": "2026-11-24 08:30:15.25"},
         {"name": "盗窃", "level": 2, "status": "open",
          "occurred_at": datetime(2026, 11, 24, 0, 30, 15, 250000, tzinfo=UTC)}),
        ("vehicles", POINT,
         {"name": "出租车", "plate": "京B12345", "kind": "taxi",
          "position_at": "2026-11-24T08:00:00+00:00"},
         {"plate": "京B12345", "position_at": datetime(2026, 11, 24, 8, tzinfo=UTC)}),
        ("parks", SQUARE, {"name": "公园", "capacity": "30000", "grade": "5A"},
         {"name": "公园", "capacity": 30000, "grade": "5A", "kind": "park"}),
    ],
)  # fmt: skip
def test_each_attribute_type_is_stored_as_given(
    run: Importer, tmp_path: Path, prefix: str, session_factory: object, layer: str,
    geometry: dict[str, object], given: dict[str, object], stored: dict[str, object],
) -> None:  # fmt: skip
    path = _write(tmp_path / f"{layer}.geojson", geometry, [{"id": prefix + layer, **given}])
    report = run(path, layer, id_field="id")
    assert (report.inserted, report.rejected) == (1, 0), report.reasons
    with session_factory() as session:  # type: ignore[operator]
        row = session.execute(
            text(f"SELECT {', '.join(stored)}, h3_cell, ST_AsText(geom) FROM {layer} "
                 "WHERE external_id = :id"), {"id": prefix + layer}
        ).one()  # fmt: skip
    assert dict(zip(stored, row[: len(stored)], strict=True)) == stored
    assert row[-2] is not None and row[-1].startswith(("POINT(116.3912", "MULTIPOLYGON"))
    # incidents: a date-time without a zone is Beijing time (08:30 +08:00 = 00:30 UTC)
