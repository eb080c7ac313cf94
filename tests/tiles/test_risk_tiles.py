"""Tiles colour by risk: a unit's open hazards show in its tile and its clusters, then go."""

from __future__ import annotations

import time
from typing import Any

import mapbox_vector_tile
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from geo.tiling import lonlat_to_tile
from layers.accounts.roles import Role
from tests.tiles.area import Area, build_area
from tests.utils.users import bearer, make_user

LOW_ZOOM = 10  # below the units' point zoom: one point per cluster
WAIT_S = 30  # only bounds a wait for another connection's notification; never asserted


@pytest.fixture(scope="module")
def area(session_factory: sessionmaker[Session], client: TestClient) -> Area:
    """This module's own test area, alone in its zoom-10 tile."""
    return build_area(session_factory, 105.05, 30.05)


@pytest.fixture(scope="module")
def commander(client: TestClient, session_factory: sessionmaker[Session]) -> dict[str, str]:
    """A commander: sees the whole city, opens and closes hazards of any level."""
    return bearer(client, make_user(session_factory, Role.COMMANDER))


def _low_tile(session_factory: sessionmaker[Session], unit_id: int) -> tuple[int, int, int]:
    with session_factory() as session:
        lon, lat = session.execute(
            text("SELECT ST_X(geom), ST_Y(geom) FROM units WHERE id = :id"), {"id": unit_id}
        ).one()
    return (LOW_ZOOM, *lonlat_to_tile(lon, lat, LOW_ZOOM))


def _features(
    client: TestClient, headers: dict[str, str], tile: tuple[int, int, int], **params: str
) -> list[dict[str, Any]]:
    z, x, y = tile
    response = client.get(f"/tiles/units/{z}/{x}/{y}.mvt", params=params, headers=headers)
    assert response.status_code in (200, 204), response.text
    if response.status_code == 204:
        return []
    layer = mapbox_vector_tile.decode(response.content).get("units", {"features": []})
    features: list[dict[str, Any]] = layer["features"]
    return features


def _unit_risk(features: list[dict[str, Any]], unit_id: int) -> tuple[int, int] | None:
    (unit,) = [f for f in features if f["id"] == unit_id]
    props = unit["properties"]
    if "hazard_level" not in props:
        assert "open_hazards" not in props
        return None
    return props["open_hazards"], props["hazard_level"]


def _cluster_risk(features: list[dict[str, Any]]) -> tuple[int, int] | None:
    """The open hazards and highest level the clusters of a tile report, None if none."""
    opened = sum(f["properties"].get("open_hazards", 0) for f in features)
    levels = [f["properties"]["max_hazard_level"] for f in features
              if "max_hazard_level" in f["properties"]]  # fmt: skip
    assert (opened == 0) == (not levels)
    return (opened, max(levels)) if levels else None


def _sql_risk(factory: sessionmaker[Session], unit_id: int) -> tuple[int, int] | None:
    """The unit's open hazards counted straight from the records: the ground truth."""
    with factory() as session:
        n, level = session.execute(text(
            "SELECT count(*), max((r.details->>'level')::int) FROM records r"
            " JOIN record_links l ON l.record_id = r.id AND l.layer = 'units'"
            " WHERE l.feature_id = :id AND r.kind = 'hazard' AND r.state <> 'verified'"
        ), {"id": unit_id}).one()  # fmt: skip
    return (int(n), int(level)) if n else None


def _open(client: TestClient, headers: dict[str, str], unit_id: int, level: int) -> Any:
    response = client.post("/api/hazards", headers=headers, json={
        "title": f"{level}级隐患", "topic": "internal_security",
        "features": [{"layer": "units", "id": unit_id}],
        "details": {"level": level, "category": "fire"},
    })  # fmt: skip
    assert response.status_code == 201, response.text
    return response.json()


def _close(client: TestClient, headers: dict[str, str], hazard: Any) -> None:
    for action in ("rectify", "report", "verify"):
        response = client.post(
            f"/api/hazards/{hazard['id']}/transitions", json={"action": action},
            headers={**headers, "If-Match": f'"{hazard["version"]}"'},
        )  # fmt: skip
        assert response.status_code == 200, response.text
        hazard = response.json()
    assert hazard["state"] == "verified"


def test_a_hazard_colours_its_unit_and_cluster_in_cached_tiles_until_verified(
    client: TestClient, area: Area, commander: dict[str, str],
    session_factory: sessionmaker[Session],
) -> None:  # fmt: skip
    unit = area.unit_ids[27]  # well inside the area's tile
    low = _low_tile(session_factory, unit)
    filtered = {"filter": "risk_level >= 1"}  # clusters counted from the points, not stored

    def seen() -> list[tuple[int, int] | None]:
        return [
            _unit_risk(_features(client, commander, area.tile), unit),
            _cluster_risk(_features(client, commander, low)),
            _cluster_risk(_features(client, commander, low, **filtered)),
        ]

    assert seen() == [None, None, None]  # and now cached
    cache = client.app.state.tile_cache  # type: ignore[attr-defined]
    cached = len(cache)
    major = _open(client, commander, unit, 3)
    assert len(cache) < cached  # the tiles showing the unit were dropped at commit
    assert seen() == [(1, 3)] * 3 == [_sql_risk(session_factory, unit)] * 3
    minor = _open(client, commander, unit, 2)
    assert seen() == [(2, 3)] * 3 == [_sql_risk(session_factory, unit)] * 3
    _close(client, commander, major)
    assert seen() == [(1, 2)] * 3 == [_sql_risk(session_factory, unit)] * 3
    _close(client, commander, minor)
    assert seen() == [None, None, None]
    assert _sql_risk(session_factory, unit) is None


def test_a_risk_written_by_another_process_refreshes_the_cached_tiles(
    client: TestClient, area: Area, commander: dict[str, str], engine: Engine,
    session_factory: sessionmaker[Session],
) -> None:  # fmt: skip
    unit = area.unit_ids[36]
    low = _low_tile(session_factory, unit)

    def seen() -> list[tuple[int, int] | None]:
        return [
            _unit_risk(_features(client, commander, area.tile), unit),
            _cluster_risk(_features(client, commander, low)),
        ]

    def wait_for(expected: list[tuple[int, int] | None]) -> None:
        deadline = time.monotonic() + WAIT_S  # the notification comes on its own connection
        while seen() != expected and time.monotonic() < deadline:
            time.sleep(0.05)
        assert seen() == expected

    assert seen() == [None, None]  # cached
    with engine.begin() as conn:  # as another worker would
        conn.execute(text("INSERT INTO feature_risks VALUES ('units', :id, 4, 4)"), {"id": unit})
    wait_for([(4, 4), (4, 4)])
    with engine.begin() as conn:
        conn.execute(text("UPDATE feature_risks SET open_hazards = 1, hazard_level = 1 "
                          "WHERE layer = 'units' AND feature_id = :id"), {"id": unit})  # fmt: skip
    wait_for([(1, 1), (1, 1)])
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM feature_risks WHERE layer = 'units' AND feature_id = :id"),
                     {"id": unit})  # fmt: skip
    wait_for([None, None])


def test_tilejson_lists_the_risk_fields(client: TestClient, commander: dict[str, str]) -> None:
    response = client.get("/tiles/units,parks.json", headers=commander)
    assert response.status_code == 200, response.text
    units, parks = response.json()["vector_layers"]
    for name in ("open_hazards", "hazard_level", "max_hazard_level"):
        assert units["fields"][name] == "Number"
    assert parks["fields"]["hazard_level"] == "Number" and "max_hazard_level" not in parks["fields"]
    assert "open_hazards" in units["description"]
