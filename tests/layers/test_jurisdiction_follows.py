"""Moving a precinct boundary moves exactly the features it takes or gives up, at once."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import shapely
from fastapi.testclient import TestClient
from shapely.geometry import mapping
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import sessionmaker

from api.app import create_app
from layers.accounts.roles import Role
from layers.crypto.keys import load_key_ring
from layers.demo.load import load_demo_city
from layers.settings import CryptoSettings, DatabaseSettings, SecuritySettings, Settings
from tests.layers.placement import misplaced, placements
from tests.utils.users import bearer, make_user


@dataclass
class City:
    """A demo city in a database of the test's own, an app on it and an admin's token."""

    engine: Engine
    client: TestClient
    headers: dict[str, str]


@pytest.fixture
def own_city(scratch_database_url: str, key_file: Path) -> Iterator[City]:
    """A small demo city (3,000 units) with its own app, so boundaries may move freely."""
    engine = create_engine(scratch_database_url)
    crypto = CryptoSettings(key_file=key_file)
    load_demo_city(engine, units=3000, seed=11, keys=load_key_ring(crypto))
    settings = Settings(
        database=DatabaseSettings(url=scratch_database_url),
        security=SecuritySettings(session_cache_seconds=0),
        crypto=crypto,
        trusted_hosts=["testserver"],  # the Host of Starlette's TestClient
    )
    with TestClient(create_app(settings)) as client:
        admin = make_user(sessionmaker(bind=engine), Role.ADMIN)
        yield City(engine, client, bearer(client, admin))
    engine.dispose()


def _outline(city: City, precinct: int) -> shapely.Geometry:
    with city.engine.connect() as connection:
        wkb = connection.scalar(
            text("SELECT ST_AsBinary(geom) FROM precincts WHERE id = :id"), {"id": precinct}
        )
    return shapely.from_wkb(bytes(wkb))


def _patch(city: City, precinct: int, outline: shapely.Geometry) -> None:
    url = f"/api/layers/precincts/features/{precinct}"
    version = city.client.get(url, headers=city.headers).headers["ETag"]
    response = city.client.patch(
        url, json={"geometry": mapping(outline)}, headers=city.headers | {"If-Match": version}
    )
    assert response.status_code == 200, response.text


def _inside(city: City, area: shapely.Geometry) -> set[int]:
    with city.engine.connect() as connection:
        return set(connection.scalars(
            text("SELECT id FROM units WHERE ST_Intersects(ST_GeomFromWKB(:area, 4326), geom)"),
            {"area": shapely.to_wkb(area)},
        ))  # fmt: skip


def _moved(before: dict[int, tuple[int, int]], city: City) -> dict[int, tuple[int, int]]:
    with city.engine.connect() as connection:
        after = placements(connection)
        assert misplaced(connection) == {}
    return {i: after[i] for i in after if after[i] != before[i]}


def test_moving_a_boundary_moves_exactly_the_units_on_either_side(own_city: City) -> None:
    city = own_city
    with city.engine.connect() as connection:
        before = placements(connection)
        # the precinct with the most units, and the neighbour sharing its longest edge
        giver, taker = connection.execute(text("""
            SELECT p.id, q.id FROM precincts AS p JOIN precincts AS q
              ON q.id <> p.id AND ST_Intersects(p.geom, q.geom)
            ORDER BY (SELECT count(*) FROM units AS u WHERE u.precinct_id = p.id) DESC,
                     ST_Length(ST_Intersection(ST_Boundary(p.geom), ST_Boundary(q.geom))) DESC
            LIMIT 1
        """)).one()  # fmt: skip
    giver_outline, taker_outline = _outline(city, giver), _outline(city, taker)
    band = shapely.intersection(giver_outline, shapely.buffer(taker_outline, 0.004))
    units = _inside(city, band)
    assert units and all(before[u][0] == giver for u in units)

    _patch(city, giver, shapely.difference(giver_outline, band))  # the band is left to nobody
    assert _moved(before, city) == dict.fromkeys(units, (None, None))

    _patch(city, taker, shapely.union(taker_outline, band))  # the neighbour takes it
    with city.engine.connect() as connection:
        district = connection.scalar(
            text("SELECT district_id FROM precincts WHERE id = :id"), {"id": taker}
        )
    assert _moved(before, city) == dict.fromkeys(units, (taker, district))


def test_a_district_taking_a_precinct_takes_its_units_along(own_city: City) -> None:
    with own_city.engine.begin() as connection:
        before = placements(connection)
        # a precinct of a higher-id district beside a lower-id one, which swallows it
        precinct, district = connection.execute(text("""
            SELECT p.id, d.id FROM precincts AS p JOIN districts AS d
              ON d.id < p.district_id AND ST_Touches(d.geom, p.geom)
            ORDER BY p.id LIMIT 1
        """)).one()  # fmt: skip
        connection.execute(text(
            "UPDATE districts SET geom = ST_Multi(ST_Union(geom, "
            "(SELECT geom FROM precincts WHERE id = :precinct))) WHERE id = :district"
        ), {"precinct": precinct, "district": district})  # fmt: skip
    moved = _moved(before, own_city)
    units = {u for u, (p, _) in before.items() if p == precinct}
    assert units and moved == dict.fromkeys(units, (precinct, district))


def test_a_boundary_written_by_plain_sql_takes_its_features_along(own_city: City) -> None:
    city = own_city
    with city.engine.begin() as connection:
        connection.execute(text(
            "UPDATE precincts SET geom = ST_Multi(ST_Buffer(geom, 0.01)) "
            "WHERE id = (SELECT min(id) FROM precincts)"
        ))  # fmt: skip
        gone = connection.execute(text(
            "DELETE FROM precincts WHERE id = (SELECT max(id) FROM precincts) RETURNING id"
        )).scalar_one()  # fmt: skip
        assert misplaced(connection) == {}  # within the writing transaction already
    with city.engine.connect() as connection:
        assert misplaced(connection) == {}
        assert gone not in {p for p, _ in placements(connection).values()}
