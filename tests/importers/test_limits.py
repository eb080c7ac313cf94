"""A delimited table far wider than any layer is refused at once, saying why (issue #12: 2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli.main import app
from importers.widths import MAX_COLUMNS, MAX_HEADER_BYTES, MAX_ROW_BYTES
from layers.errors import InvalidInput
from tests.importers.conftest import Importer

ROWS = b"116.39,39.91,a\n116.40,39.92,b\n"


def million_columns() -> bytes:
    """The issue's file: a 1,000,000-column header and one row (~9.9 MB)."""
    header = b",".join(b"c%d" % i for i in range(1_000_000))
    return header + b"\n" + b"1," * 999_999 + b"1\n"


def wide_header() -> bytes:
    return b",".join(b"c%d" % i for i in range(MAX_COLUMNS + 1)) + b"\n" + ROWS


def long_row() -> bytes:
    return b"lon,lat,name\n" + ROWS + b"116.41,39.93," + b"x" * MAX_ROW_BYTES + b"\n" + ROWS


CASES = [
    (million_columns, f"the header line is longer than {MAX_HEADER_BYTES:,} bytes"),
    (wide_header, f"the header has {MAX_COLUMNS + 1:,} columns; at most {MAX_COLUMNS:,}"),
    (long_row, f"line 4 is longer than {MAX_ROW_BYTES:,} bytes"),
]


@pytest.mark.parametrize(("make", "message"), CASES)
def test_a_vast_table_is_refused_before_it_is_parsed(
    run: Importer, tmp_path: Path, make: object, message: str
) -> None:
    path = tmp_path / "wide.csv"
    path.write_bytes(make())  # type: ignore[operator]
    with pytest.raises(InvalidInput, match=message):
        run(path, "units", dry_run=True)


def test_the_command_line_says_why(
    database_url: str, city: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WARROOM_DATABASE_URL", database_url)
    path = tmp_path / "stops.txt"  # GTFS is read as delimited text too
    path.write_bytes(wide_header())
    result = CliRunner().invoke(app, ["import", str(path), "--layer", "rail_stations",
                                      "--dry-run"])  # fmt: skip
    assert result.exit_code != 0
    assert f"at most {MAX_COLUMNS:,} are read" in result.output


def test_a_table_at_the_limits_is_read(run: Importer, tmp_path: Path) -> None:
    names = [b"lon", b"lat", b"name"] + [b"x%d" % i for i in range(MAX_COLUMNS - 3)]
    path = tmp_path / "edge.csv"
    path.write_bytes(b",".join(names) + b"\n116.39,39.91,a" + b"," * (MAX_COLUMNS - 3) + b"\n")
    report = run(path, "units", dry_run=True, mapping={"category": "'bank'"})
    assert report.as_dict()["rows"] == 1
