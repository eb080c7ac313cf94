"""Exports in every format read back through the importers without losing anything."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from importers.export import export_layer
from importers.writers import WRITE_FORMATS
from layers.accounts.scope import SYSTEM
from layers.errors import InvalidInput
from layers.features.registry import get_layer
from tests.importers.conftest import importer_on

MAPPING = {"category": "'hospital'", "address": "fullName", "external_id": "id"}


def _snapshot(factory: sessionmaker[Session]) -> dict[str, tuple[str, str, str, float, float]]:
    with factory() as session:
        rows = session.execute(
            text(
                "SELECT external_id, name, category, coalesce(address, ''), ST_X(geom), ST_Y(geom) "
                "FROM units ORDER BY external_id"
            )
        ).all()
    return {r[0]: (r[1], r[2], r[3], r[4], r[5]) for r in rows}


def _close(
    a: dict[str, tuple[str, str, str, float, float]],
    b: dict[str, tuple[str, str, str, float, float]],
) -> bool:
    return a.keys() == b.keys() and all(
        a[k][:3] == b[k][:3] and abs(a[k][3] - b[k][3]) < 1e-6 and abs(a[k][4] - b[k][4]) < 1e-6
        for k in a
    )


def test_every_export_format_round_trips(
    scratch: sessionmaker[Session], shared_data: Path, tmp_path: Path
) -> None:
    run = importer_on(scratch, tmp_path)
    loaded = run(shared_data / "hospitals_gcj02.geojson", "units", crs="gcj02", mapping=MAPPING)
    assert loaded.inserted == 44
    before = _snapshot(scratch)
    spec = get_layer("units")
    for fmt, (suffix, _) in WRITE_FORMATS.items():
        for crs in ("wgs84", "gcj02") if fmt != "kml" else ("wgs84",):
            path = tmp_path / f"units_{fmt}_{crs}{suffix}"
            with scratch() as session:
                done = export_layer(
                    session=session, spec=spec, actor=SYSTEM, fmt=fmt, crs=crs, path=path
                )
                assert done.count == 44
            report = run(path, "units", mode="upsert")  # each file names its own CRS
            assert (report.inserted, report.updated, report.rejected) == (0, 44, 0), (fmt, crs)
            assert _close(before, _snapshot(scratch)), (fmt, crs)


def test_unknown_export_format_and_crs_are_refused(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    spec = get_layer("units")
    with session_factory() as session:
        for fmt, crs, message in (("parquet", "wgs84", "format"), ("csv", "mars", "crs")):
            with pytest.raises(InvalidInput, match=f"unknown export {message}"):
                export_layer(
                    session=session, spec=spec, actor=SYSTEM, fmt=fmt, crs=crs, path=tmp_path / "x"
                )
