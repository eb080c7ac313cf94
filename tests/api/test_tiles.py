"""The tile and TileJSON routes over HTTP: statuses, ETags, gzip, scope, invalidation."""

from __future__ import annotations

import gzip
import time
from typing import Any

import mapbox_vector_tile
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from geo.tiling import lonlat_to_tile, tile_bounds_wgs84
from layers.accounts.roles import Role
from layers.accounts.service import Jurisdiction, hash_token
from tests.tiles.area import Area, build_area
from tests.utils.users import bearer, make_user

MVT = "application/vnd.mapbox-vector-tile"


@pytest.fixture(scope="module")
def area(session_factory: sessionmaker[Session], client: TestClient) -> Area:
    """This module's own test area (the client fixture has loaded the city first)."""
    return build_area(session_factory, 102.05, 30.05)


def url(area: Area, layers: str = "units", tile: tuple[int, int, int] | None = None) -> str:
    z, x, y = tile or area.tile
    return f"/tiles/{layers}/{z}/{x}/{y}.mvt"


def decode(body: bytes) -> dict[str, Any]:
    return dict(mapbox_vector_tile.decode(body))


def test_tile_is_mvt_with_a_strong_etag(
    client: TestClient, area: Area, admin: dict[str, str]
) -> None:
    response = client.get(url(area), headers={**admin, "Accept-Encoding": "identity"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == MVT
    assert "content-encoding" not in response.headers
    etag = response.headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert len(decode(response.content)["units"]["features"]) > 0
    again = client.get(url(area), headers={**admin, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag


def test_tile_is_gzipped_when_accepted(
    client: TestClient, area: Area, admin: dict[str, str]
) -> None:
    response = client.get(url(area), headers={**admin, "Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    plain = client.get(url(area), headers={**admin, "Accept-Encoding": "identity"})
    with client.stream("GET", url(area), headers={**admin, "Accept-Encoding": "gzip"}) as raw:
        wire = b"".join(raw.iter_raw())  # what was sent, before httpx undoes the gzip
    assert wire != plain.content and gzip.decompress(wire) == plain.content
    refused = client.get(url(area), headers={**admin, "Accept-Encoding": "gzip;q=0, br"})
    assert "content-encoding" not in refused.headers


def test_empty_tile_is_204(client: TestClient, area: Area, admin: dict[str, str]) -> None:
    response = client.get("/tiles/units/14/0/0.mvt", headers=admin)
    assert response.status_code == 204 and response.content == b""


@pytest.mark.parametrize(
    "path", ["/tiles/units/23/0/0.mvt", "/tiles/units/2/4/0.mvt", "/tiles/units/2/0/-1.mvt",
             "/tiles/units/a/0/0.mvt", "/tiles/units/1/0/1.5.mvt"],
)  # fmt: skip
def test_invalid_tile_address_is_400(client: TestClient, admin: dict[str, str], path: str) -> None:
    response = client.get(path, headers=admin)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "InvalidTile"


def test_unknown_layer_is_404_and_bad_filter_is_422(
    client: TestClient, area: Area, admin: dict[str, str]
) -> None:
    assert client.get(url(area, "units,nowhere"), headers=admin).status_code == 404
    for bad in ("risk_level >=", "colour = 'red'", "risk_level = 'high'"):
        response = client.get(url(area), params={"filter": bad}, headers=admin)
        assert response.status_code == 422, bad
        assert response.json()["code"] == "InvalidInput"


def test_filter_applies(client: TestClient, area: Area, admin: dict[str, str]) -> None:
    response = client.get(url(area), params={"filter": "risk_level = 4"}, headers=admin)
    risks = {f["properties"]["risk_level"] for f in decode(response.content)["units"]["features"]}
    assert risks == {4}


def test_a_cached_tile_checks_out_no_database_connection(
    client: TestClient, area: Area, admin: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    state: Any = client.app.state  # type: ignore[attr-defined]
    state.session_cache.ttl_s = 60  # the test settings turn it off
    checkouts: list[object] = []
    statements: list[str] = []
    run_statement = state.tile_pool.fetch

    def count(*_: object) -> None:
        checkouts.append(_)

    async def counted(sql: str, params: dict[str, Any]) -> Any:
        statements.append(sql)
        return await run_statement(sql, params)

    monkeypatch.setattr(state.tile_pool, "fetch", counted)
    event.listen(state.engine.pool, "checkout", count)
    try:
        assert client.get(url(area), headers=admin).status_code == 200  # cached, session known
        checkouts.clear()
        statements.clear()
        assert client.get(url(area), headers=admin).status_code == 200
        assert checkouts == [] and statements == []
        state.tile_cache.clear()
        assert client.get(url(area), headers=admin).status_code == 200
        assert checkouts == [] and len(statements) == 1  # the tile: one statement, no session
    finally:
        state.session_cache.ttl_s = 0
        state.session_cache.drop(hash_token(admin["Authorization"].removeprefix("Bearer ")))
        event.remove(state.engine.pool, "checkout", count)


def test_tiles_need_a_session(client: TestClient, area: Area) -> None:
    assert client.get(url(area)).status_code == 401


def test_scope_is_part_of_the_cache_key(
    client: TestClient, area: Area, admin: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    everyone = decode(client.get(url(area), headers=admin).content)["units"]["features"]
    west = Jurisdiction(precinct_code=area.west_precinct_code)
    officer = bearer(client, make_user(session_factory, Role.OFFICER, west))
    mine = decode(client.get(url(area), headers=officer).content)["units"]["features"]
    assert 0 < len(mine) < len(everyone)
    assert {f["id"] for f in mine} < {f["id"] for f in everyone}


def _ids(client: TestClient, headers: dict[str, str], path: str, layer: str) -> set[int]:
    response = client.get(path, headers=headers)
    if response.status_code == 204:
        return set()
    return {f["id"] for f in decode(response.content).get(layer, {"features": []})["features"]}


def test_moved_incident_shows_at_its_new_place_on_the_next_request(
    client: TestClient, area: Area, admin: dict[str, str]
) -> None:
    z, x, y = area.tile
    old_tile, new_tile, far_tile = area.tile, (z, x + 2, y), (z, x - 3, y)
    paths = [url(area, "incidents,units", t) for t in (old_tile, new_tile, far_tile)]
    before = [_ids(client, admin, p, "incidents") for p in paths]  # now cached
    assert area.incident_id in before[0] and area.incident_id not in before[1]
    old_etag = client.get(paths[0], headers=admin).headers["etag"]
    cache = client.app.state.tile_cache  # type: ignore[attr-defined]
    cached = len(cache)

    west, south, east, north = tile_bounds_wgs84(*new_tile)
    target = [(west + east) / 2, (south + north) / 2]
    assert lonlat_to_tile(target[0], target[1], z) == new_tile[1:]
    feature = client.get(f"/api/layers/incidents/features/{area.incident_id}", headers=admin)
    moved = client.patch(
        f"/api/layers/incidents/features/{area.incident_id}",
        json={"geometry": {"type": "Point", "coordinates": target}},
        headers={**admin, "If-Match": feature.headers["etag"]},
    )
    assert moved.status_code == 200, moved.text

    assert len(cache) == cached - 2  # the old and new place's tiles, not the far one
    assert area.incident_id not in _ids(client, admin, paths[0], "incidents")
    assert area.incident_id in _ids(client, admin, paths[1], "incidents")
    assert client.get(paths[0], headers={**admin, "If-None-Match": old_etag}).status_code == 200


def test_a_write_by_another_process_drops_the_cached_tile(
    client: TestClient, area: Area, admin: dict[str, str], engine: Engine
) -> None:
    unit = area.unit_ids[9]
    ids = _ids(client, admin, url(area), "units")  # cached now
    assert unit in ids
    with engine.begin() as conn:  # as another worker, an importer or psql would
        home = conn.scalar(text("SELECT geom FROM units WHERE id = :id"), {"id": unit})
        conn.execute(text("UPDATE units SET geom = ST_SetSRID(ST_MakePoint(0, 0), 4326) "
                          "WHERE id = :id"), {"id": unit})  # fmt: skip
    try:
        for _ in range(300):  # the notification arrives on the listener's own connection
            if unit not in _ids(client, admin, url(area), "units"):
                break
            time.sleep(0.1)
        assert _ids(client, admin, url(area), "units") == ids - {unit}
    finally:  # put it back: a write by SQL leaves its stored H3 cells as they were
        with engine.begin() as conn:
            conn.execute(text("UPDATE units SET geom = :home WHERE id = :id"),
                         {"home": home, "id": unit})  # fmt: skip


def test_tilejson_describes_layers_for_maplibre(
    client: TestClient, area: Area, admin: dict[str, str]
) -> None:
    response = client.get("/tiles/units,incidents.json", params={"filter": "name <> 'x'"},
                          headers=admin)  # fmt: skip
    assert response.status_code == 200, response.text
    doc = response.json()
    assert doc["tilejson"] == "3.0.0"
    assert doc["tiles"][0].endswith(
        "/tiles/units,incidents/{z}/{x}/{y}.mvt?filter=name%20%3C%3E%20%27x%27"
    )
    assert [layer["id"] for layer in doc["vector_layers"]] == ["units", "incidents"]
    units = doc["vector_layers"][0]
    assert units["fields"]["risk_level"] == "Number" and units["fields"]["count"] == "Number"
    assert "contact_phone" not in units["fields"]  # not a tile attribute
    west, south, east, north = doc["bounds"]
    assert west < 102.05 < east and south < 30.05 < north
    assert client.get("/tiles/units.json", params={"filter": "x ="},
                      headers=admin).status_code == 422  # fmt: skip
