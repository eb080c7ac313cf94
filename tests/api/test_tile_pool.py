"""The tile pool behind the tile route, over HTTP: PostGIS's tiles, dead connections, bounds."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import mapbox_vector_tile
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from layers.accounts.roles import Role
from layers.settings import DatabaseSettings, SecuritySettings, Settings
from tests.tiles.area import Area, build_area
from tests.utils.users import bearer, make_user
from tiles.settings import TileSettings

# Independent of tiles/: ST_TileEnvelope, a transform of every row, an exact intersection.
POSTGIS_TILE = """
SELECT ST_AsMVT(t, 'units', 4096, 'geom', 'id') FROM (
  SELECT ST_AsMVTGeom(ST_Transform(u.geom, 3857), ST_TileEnvelope(:z, :x, :y), 4096, 64, true)
           AS geom, u.id, u.name, u.category, u.risk_level, u.is_key_unit
  FROM units u
  WHERE ST_Intersects(ST_Transform(u.geom, 3857),
                      ST_Expand(ST_TileEnvelope(:z, :x, :y), :margin))
) AS t
"""
TILE_BACKENDS = (
    "SELECT pid FROM pg_stat_activity"
    " WHERE application_name = 'warroom-tiles' AND datname = current_database()"
)
RUNNING_TILE_QUERIES = f"SELECT count(*) FROM ({TILE_BACKENDS} AND state = 'active') AS q"


@pytest.fixture(scope="module")
def area(session_factory: sessionmaker[Session], client: TestClient) -> Area:
    """This module's own test area (the client fixture has loaded the city first)."""
    return build_area(session_factory, 104.05, 30.05)


def path(tile: tuple[int, int, int]) -> str:
    z, x, y = tile
    return f"/tiles/units/{z}/{x}/{y}.mvt"


def features(body: bytes) -> dict[int, Any]:
    """Return a units tile's features by id: geometry and properties."""
    layer = dict(mapbox_vector_tile.decode(body)).get("units", {"features": []})
    return {f["id"]: (f["geometry"], f["properties"]) for f in layer["features"]}


@contextmanager
def tile_server(
    session_factory: sessionmaker[Session], database_url: str, **database: Any
) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """Serve an app of its own, tile cache off, with these database settings; log in."""
    settings = Settings(
        database=DatabaseSettings(url=database_url, **database),
        security=SecuritySettings(session_cache_seconds=0),
        trusted_hosts=["testserver"],
    )
    with TestClient(create_app(settings, TileSettings(cache_bytes=0))) as client:
        yield client, bearer(client, make_user(session_factory, Role.ADMIN))


def test_tiles_hold_what_postgis_makes_of_the_tile(
    client: TestClient, area: Area, admin: dict[str, str], engine: Engine
) -> None:
    z, x, y = area.tile
    for tile in (area.tile, (z, x + 1, y), (z + 1, 2 * x, 2 * y + 1)):
        response = client.get(path(tile), headers={**admin, "Accept-Encoding": "identity"})
        assert response.status_code == 200, response.text
        margin = 2 * 20037508.342789244 / (1 << tile[0]) * 64 / 4096
        with engine.connect() as conn:
            params = {"z": tile[0], "x": tile[1], "y": tile[2], "margin": margin}
            expected = bytes(conn.execute(text(POSTGIS_TILE), params).scalar_one())
        assert features(response.content) == features(expected) != {}, tile


def test_filters_with_lists_and_wildcards_reach_the_database_intact(
    client: TestClient, area: Area, admin: dict[str, str]
) -> None:
    every = features(client.get(path(area.tile), headers=admin).content)
    cql = "risk_level IN (1, 4) AND name LIKE '%' AND category <> '100%'"
    response = client.get(path(area.tile), params={"filter": cql}, headers=admin)
    assert response.status_code == 200, response.text
    chosen = features(response.content)
    assert chosen == {i: f for i, f in every.items() if f[1]["risk_level"] in (1, 4)} != {}


def test_a_dead_tile_connection_is_replaced_and_the_tile_asked_again(
    client: TestClient, area: Area, admin: dict[str, str], engine: Engine
) -> None:
    before = client.get(path(area.tile), headers=admin)  # leaves a connection in the pool
    with engine.connect() as conn:
        pids = conn.execute(text(TILE_BACKENDS)).scalars().all()
        assert pids, "the tile pool keeps its connection"
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM unnest(:p) AS pid"), {"p": pids})
        while conn.execute(text(f"{TILE_BACKENDS} AND pid = ANY(:p)"), {"p": pids}).first():
            conn.rollback()  # a new snapshot of pg_stat_activity on the next round
    client.app.state.tile_cache.clear()  # type: ignore[attr-defined]
    after = client.get(path(area.tile), headers=admin)
    assert after.status_code == 200 and after.content == before.content


def test_at_most_pool_size_tile_queries_run_at_once(
    session_factory: sessionmaker[Session], database_url: str, area: Area, engine: Engine
) -> None:
    z, x, y = area.tile
    paths = [path((z, x + dx, y)) for dx in range(-3, 3)]
    server = tile_server(session_factory, database_url, pool_size=2, max_overflow=0)
    with server as (tiles, headers), ThreadPoolExecutor(len(paths)) as workers:
        first = [tiles.get(p, headers=headers) for p in paths]
        with engine.connect() as locker, engine.connect() as watcher:
            locker.execute(text("LOCK TABLE units IN ACCESS EXCLUSIVE MODE"))  # tiles wait
            pending = [workers.submit(tiles.get, p, headers=headers) for p in paths]
            running: list[int] = []
            for _ in range(1000):  # until both connections wait on the lock, then a while
                running.append(watcher.scalar(text(RUNNING_TILE_QUERIES)))
                watcher.rollback()  # a new snapshot of pg_stat_activity on the next round
                if running.count(2) > 20:  # the other four wait in the app, not in the database
                    break
                time.sleep(0.02)
            locker.commit()
        responses = [future.result() for future in pending]
    assert max(running) == 2
    assert [(r.status_code, r.content) for r in responses] == [
        (r.status_code, r.content) for r in first
    ]
    assert {r.status_code for r in responses} == {200, 204}


def test_a_tile_query_that_times_out_is_503_not_500(
    session_factory: sessionmaker[Session], database_url: str, area: Area, engine: Engine
) -> None:
    server = tile_server(session_factory, database_url, statement_timeout_ms=500)
    with server as (tiles, headers), engine.connect() as locker:
        locker.execute(text("LOCK TABLE units IN ACCESS EXCLUSIVE MODE"))
        response = tiles.get(path(area.tile), headers=headers)
        locker.rollback()
        assert response.status_code == 503, response.text
        assert response.json()["code"] == "QueryTimeout"
        assert tiles.get(path(area.tile), headers=headers).status_code == 200


def test_a_low_zoom_tile_refreshes_the_clusters_a_write_made_stale(
    client: TestClient, area: Area, admin: dict[str, str]
) -> None:
    _, x, y = area.tile  # zoom 14: three zooms up is 11
    overview = path((11, x >> 3, y >> 3))  # from the precomputed clusters

    def members() -> int:
        body = client.get(overview, headers={**admin, "Accept-Encoding": "identity"}).content
        layer = dict(mapbox_vector_tile.decode(body))["units"]["features"]
        return sum(int(f["properties"]["count"]) for f in layer)

    before = members()
    unit = f"/api/layers/units/features/{area.unit_ids[0]}"
    version = client.get(unit, headers=admin).headers["etag"]
    moved = client.patch(unit, json={"geometry": {"type": "Point", "coordinates": [80.0, 40.0]}},
                         headers={**admin, "If-Match": version})  # fmt: skip
    assert moved.status_code == 200, moved.text
    assert members() == before - 1
