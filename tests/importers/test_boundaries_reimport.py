"""Re-importing the boundaries leaves every feature in the precinct and district it lies in."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import shapely
from shapely.geometry import mapping, shape
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import sessionmaker
from typer.testing import CliRunner

from api.cli.main import app
from layers.accounts.roles import Role
from layers.accounts.service import Jurisdiction
from layers.crypto.keys import KeyRing
from layers.demo.load import load_demo_city
from tests.layers.placement import misplaced, placements
from tests.utils.users import make_user


@pytest.fixture
def city_engine(scratch_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """A small demo city in a database of the test's own, which the CLI talks to."""
    monkeypatch.setenv("WARROOM_DATABASE_URL", scratch_database_url)
    engine = create_engine(scratch_database_url)
    load_demo_city(engine, units=3000, seed=5, keys=KeyRing.generate())
    yield engine
    engine.dispose()


def _cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _export(layer: str, path: Path) -> dict[str, Any]:
    _cli("export", "--layer", layer, "--format", "geojson", "-o", str(path))
    collection: dict[str, Any] = json.loads(path.read_text())
    return collection


def _ids(engine: Engine, layer: str) -> dict[str, int]:
    with engine.connect() as connection:
        rows = connection.execute(text(f"SELECT code, id FROM {layer}"))
        return {code: id_ for code, id_ in rows}


@pytest.mark.parametrize("layer", ["precincts", "districts"])
def test_reimporting_a_boundary_file_leaves_every_feature_where_it_lies(
    city_engine: Engine, tmp_path: Path, layer: str
) -> None:
    with city_engine.connect() as connection:
        before, ids = placements(connection), _ids(city_engine, layer)
        code = connection.scalar(text(f"SELECT min(code) FROM {layer}"))
    where = Jurisdiction(**{f"{layer[:-1]}_code": code})
    make_user(sessionmaker(bind=city_engine), Role.OFFICER, where)  # bound to a boundary's id
    path = tmp_path / f"{layer}.geojson"
    _export(layer, path)
    _cli("import", str(path), "--layer", layer, "--mode", "replace")
    with city_engine.connect() as connection:
        assert misplaced(connection) == {}
        assert placements(connection) == before
    assert _ids(city_engine, layer) == ids  # officers and features keep their boundaries


def test_a_redrawn_precinct_file_moves_exactly_the_units_it_moves(
    city_engine: Engine, tmp_path: Path
) -> None:
    with city_engine.connect() as connection:
        before = placements(connection)
        # two neighbours of one district: the file merges the second into the first
        keep, drop = connection.execute(text("""
            SELECT p.code, q.code FROM precincts AS p JOIN precincts AS q
              ON q.id > p.id AND q.district_id = p.district_id AND ST_Touches(p.geom, q.geom)
            ORDER BY p.id, q.id LIMIT 1
        """)).one()  # fmt: skip
    ids = _ids(city_engine, "precincts")
    path = tmp_path / "precincts.geojson"
    collection = _export("precincts", path)
    features = {f["properties"]["code"]: f for f in collection["features"]}
    merged = shapely.union(shape(features[keep]["geometry"]), shape(features[drop]["geometry"]))
    features[keep]["geometry"] = mapping(merged)
    collection["features"] = [f for c, f in features.items() if c != drop]
    path.write_text(json.dumps(collection))
    output = _cli("import", str(path), "--layer", "precincts", "--mode", "replace")
    assert "deleted 1" in output, output
    with city_engine.connect() as connection:
        assert misplaced(connection) == {}
        after = placements(connection)
    moved = {u for u in after if after[u] != before[u]}
    assert moved and moved == {u for u in before if before[u][0] == ids[drop]}
    assert {after[u][0] for u in moved} == {ids[keep]}
