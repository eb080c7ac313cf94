"""``warroom import`` and ``warroom export`` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from api.cli.main import app
from tests.importers.conftest import Counter


def test_import_then_export_from_the_command_line(
    database_url: str,
    city: None,
    tmp_path: Path,
    prefix: str,
    count: Counter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WARROOM_DATABASE_URL", database_url)
    path = tmp_path / "sites.csv"
    pd.DataFrame(
        {
            "编号": [prefix + "1", prefix + "2"],
            "名称": ["工地甲", "工地乙"],
            "wkt": [
                "POLYGON((116.39 39.90,116.40 39.90,116.40 39.91,116.39 39.90))",
                "POINT(116.39 39.90)",
            ],
        }
    ).to_csv(path, index=False)
    runner = CliRunner()
    dry = runner.invoke(
        app,
        ["import", str(path), "--layer", "construction_sites", "--id-field", "编号", "--dry-run"],
    )
    assert dry.exit_code == 0, dry.output
    assert "would load 1" in dry.output and count("construction_sites", prefix) == 0
    strict = runner.invoke(
        app,
        ["import", str(path), "--layer", "construction_sites", "--id-field", "编号", "--strict"],
    )
    assert strict.exit_code == 1 and count("construction_sites", prefix) == 0
    done = runner.invoke(
        app, ["import", str(path), "--layer", "construction_sites", "--id-field", "编号"]
    )
    assert done.exit_code == 0, done.output
    assert "inserted 1" in done.output and "sites.rejects.csv" in done.output
    assert count("construction_sites", prefix) == 1
    bad = runner.invoke(app, ["import", str(path), "--layer", "nope"])
    assert bad.exit_code == 2 and "unknown layer" in bad.output
    out = tmp_path / "sites.geojson"
    exported = runner.invoke(app, ["export", "--layer", "construction_sites", "-o", str(out)])
    assert exported.exit_code == 0, exported.output
    ids = {f["properties"]["external_id"] for f in json.loads(out.read_text())["features"]}
    assert prefix + "1" in ids
