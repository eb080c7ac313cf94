"""Rendered tiles, decoded, against PostGIS: counts (buffer included), attributes, scope."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import mapbox_vector_tile
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from layers.accounts.roles import Role
from layers.accounts.scope import SYSTEM, Actor, Scope, ScopeKind
from layers.errors import InvalidInput, PermissionDenied
from layers.features.registry import get_layer
from tests.tiles.area import Area, build_area
from tiles.clusters import CLUSTER_SHIFT
from tiles.pool import TilePool
from tiles.render import TileAddress, render_tile
from tiles.settings import TileSettings

SETTINGS = TileSettings()
UNITS = (get_layer("units"),)
# Independent of tiles.sql: ST_TileEnvelope and a transform of every row.
RAW_COUNT = """
SELECT count(*) FROM units u
WHERE ST_Intersects(ST_Transform(u.geom, 3857),
                    ST_Expand(ST_TileEnvelope(:z, :x, :y), :margin)) {extra}
"""
CELL_COUNT = """
SELECT count(*) FROM units u, LATERAL ST_Transform(u.geom, 3857) AS g,
       LATERAL ST_TileEnvelope(:z, :x, :y) AS e
WHERE ST_X(g) >= ST_XMin(e) AND ST_X(g) < ST_XMax(e)
  AND ST_Y(g) > ST_YMin(e) AND ST_Y(g) <= ST_YMax(e) {extra}
"""


@pytest.fixture(scope="module")
def area(session_factory: sessionmaker[Session], city: None) -> Area:
    """The module's own test area in the shared database."""
    return build_area(session_factory, 101.05, 30.05)


Render = Callable[..., dict[str, Any]]


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """The event loop the module's tile pool runs on."""
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture(scope="module")
def tile_pool(engine: Engine) -> Iterator[TilePool]:
    """A tile pool on the test database."""
    pool = TilePool(engine.url, size=2, keep=2, statement_timeout_ms=30_000, connect_timeout_s=2)
    yield pool
    pool.close()


@pytest.fixture(scope="module")
def render(
    session_factory: sessionmaker[Session], tile_pool: TilePool, loop: asyncio.AbstractEventLoop
) -> Render:
    """Render a tile through ``render_tile`` and decode it ({} for an empty tile)."""

    def decoded(
        tile: tuple[int, int, int], actor: Actor = SYSTEM, filter_text: str | None = None,
        specs: tuple[Any, ...] = UNITS,
    ) -> dict[str, Any]:  # fmt: skip
        body = loop.run_until_complete(render_tile(
            pool=tile_pool, sessions=session_factory, specs=specs, tile=TileAddress(*tile),
            actor=actor, settings=SETTINGS, filter_text=filter_text,
        ))  # fmt: skip
        return dict(mapbox_vector_tile.decode(body)) if body else {}

    return decoded


def postgis_count(
    factory: sessionmaker[Session], sql: str, tile: tuple[int, int, int], extra: str = "",
    **params: Any,
) -> int:  # fmt: skip
    z, x, y = tile
    margin = 2 * 20037508.342789244 / (1 << z) * SETTINGS.buffer / SETTINGS.extent
    with factory() as session:
        query = text(sql.format(extra=extra))
        return int(session.scalar(query, {"z": z, "x": x, "y": y, "margin": margin, **params}))


def neighbours(area: Area) -> list[tuple[int, int, int]]:
    z, x, y = area.tile
    return [
        area.tile, (z, x + 1, y), (z, x - 1, y + 1), (z + 1, 2 * x, 2 * y),
        (z + 2, 4 * x + 3, 4 * y + 3), (z - 1, x // 2, y // 2), (z - 2, x // 4, y // 4),
    ]  # fmt: skip


def test_raw_tiles_hold_what_postgis_finds_in_tile_and_buffer(
    session_factory: sessionmaker[Session], area: Area, render: Render
) -> None:
    for tile in neighbours(area):
        layer = render(tile).get("units", {"features": []})
        assert len(layer["features"]) == postgis_count(session_factory, RAW_COUNT, tile), tile
    central = render(area.tile)["units"]["features"]
    in_buffer = [
        f for f in central
        if not all(0 <= c <= SETTINGS.extent for c in f["geometry"]["coordinates"])
    ]  # fmt: skip
    assert in_buffer, "the grid puts units in the buffer around the tile"
    assert len(central) < len(area.unit_ids)  # units beyond the buffer are left out


def test_features_carry_id_and_exactly_the_tile_attributes(
    session_factory: sessionmaker[Session], area: Area, render: Render
) -> None:
    features = render(area.tile)["units"]["features"]
    by_id = {f["id"]: f["properties"] for f in features}
    with session_factory() as session:
        rows = session.execute(
            text("SELECT id, name, category, risk_level, is_key_unit FROM units "
                 "WHERE id = ANY(:ids)"), {"ids": list(by_id)},
        ).all()  # fmt: skip
    assert rows
    for row in rows:
        assert by_id[row.id] == {
            "name": row.name, "category": row.category,
            "risk_level": row.risk_level, "is_key_unit": row.is_key_unit,
        }  # fmt: skip


def test_low_zoom_tiles_carry_clusters_summing_to_the_points_in_the_tile(
    session_factory: sessionmaker[Session], area: Area, render: Render
) -> None:
    _, x, y = area.tile
    for tile in [(11, x >> 3, y >> 3), (9, x >> 5, y >> 5), (8, x >> 6, y >> 6)]:
        clusters = render(tile)["units"]["features"]
        assert all(set(c["properties"]) == {"count", "max_risk_level", "is_key_unit_count"}
                   for c in clusters)  # fmt: skip
        assert sum(c["properties"]["count"] for c in clusters) == postgis_count(
            session_factory, CELL_COUNT, tile
        )
        assert len(clusters) <= (1 << CLUSTER_SHIFT) ** 2
        assert all(1 <= c["properties"]["max_risk_level"] <= 4 for c in clusters)


def test_filter_keeps_only_matching_features(
    session_factory: sessionmaker[Session], area: Area, render: Render
) -> None:
    features = render(area.tile, filter_text="risk_level >= 3")["units"]
    assert {f["properties"]["risk_level"] for f in features["features"]} == {3, 4}
    expected = postgis_count(session_factory, RAW_COUNT, area.tile, "AND u.risk_level >= 3")
    assert len(features["features"]) == expected


def test_bad_filter_is_invalid_input(
    session_factory: sessionmaker[Session], area: Area, render: Render
) -> None:
    for bad in ("risk_level >=", "colour = 'red'", "risk_level = 'high'"):
        with pytest.raises(InvalidInput):
            render(area.tile, filter_text=bad)


def test_tiles_show_only_the_actors_jurisdiction(
    session_factory: sessionmaker[Session], area: Area, render: Render
) -> None:
    with session_factory() as session:
        west = session.scalar(text("SELECT id FROM precincts WHERE code = :c"),
                              {"c": area.west_precinct_code})  # fmt: skip
    officer = Actor(user_id=None, username="o", role=Role.OFFICER,
                    scope=Scope(ScopeKind.PRECINCT, west))  # fmt: skip
    features = render(area.tile, actor=officer)["units"]["features"]
    expected = postgis_count(
        session_factory, RAW_COUNT, area.tile, "AND u.precinct_id = :p", p=west
    )
    assert 0 < len(features) == expected
    everyone = render(area.tile)["units"]["features"]
    assert len(features) < len(everyone)


def test_role_without_read_permission_is_refused(
    session_factory: sessionmaker[Session], area: Area, render: Render
) -> None:
    auditor_like = Actor(user_id=None, username="s", role=Role.SECURITY_ADMIN)
    with pytest.raises(PermissionDenied):
        render(area.tile, actor=auditor_like)


def test_empty_and_out_of_zoom_tiles_are_empty(
    session_factory: sessionmaker[Session], area: Area, render: Render
) -> None:
    assert render((14, 0, 0)) == {}
    late = (dataclasses.replace(UNITS[0], min_zoom=area.tile[0] + 1),)
    assert render(area.tile, specs=late) == {}


def test_several_layers_make_one_mvt_layer_each(
    session_factory: sessionmaker[Session], area: Area, render: Render
) -> None:
    specs = (UNITS[0], get_layer("incidents"), get_layer("precincts"))
    decoded = render(area.tile, specs=specs)
    assert {"units", "incidents", "precincts"} <= set(decoded)
    assert area.incident_id in {f["id"] for f in decoded["incidents"]["features"]}
