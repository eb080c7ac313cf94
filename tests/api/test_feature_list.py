"""Listing features over HTTP: bbox, filters, name search, sort, keyset pages, CRS, writes."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from geo.crs import convert
from layers.features.models import Unit

BOX = (116.30, 39.85, 116.50, 39.98)


def _all_pages(client: TestClient, url: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    features: list[dict[str, Any]] = []
    while url:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        features += body["features"]
        nexts = [link["href"] for link in body["links"] if link["rel"] == "next"]
        url = nexts[0] if nexts else ""
    return features


def _db_ids(session_factory: sessionmaker[Session], *where: Any) -> set[int]:
    with session_factory() as session:
        return set(session.scalars(select(Unit.id).where(*where)).all())


def test_pages_through_a_bbox_with_filters_match_the_database(
    client: TestClient, session_factory: sessionmaker[Session], admin: dict[str, str]
) -> None:
    bbox = ",".join(map(str, BOX))
    url = f"/api/layers/units/features?bbox={bbox}&risk_level=2..3&limit=50"
    features = _all_pages(client, url, admin)
    ids = [f["id"] for f in features]
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    expected = _db_ids(
        session_factory, func.ST_Intersects(Unit.geom, func.ST_MakeEnvelope(*BOX, 4326)),
        Unit.risk_level.between(2, 3),
    )  # fmt: skip
    assert len(expected) > 50
    assert set(ids) == expected


def test_sorted_descending_pages_are_complete_and_ordered(
    client: TestClient, session_factory: sessionmaker[Session], admin: dict[str, str]
) -> None:
    features = _all_pages(
        client, "/api/layers/units/features?category=school,hospital&sort=-name&limit=37", admin
    )
    names = [f["properties"]["name"] for f in features]
    with session_factory() as session:
        expected = session.scalars(
            select(Unit.name).where(Unit.category.in_(["school", "hospital"]))
            .order_by(Unit.name.desc(), Unit.id.desc())
        ).all()  # fmt: skip
    assert names == list(expected)


def test_name_search_finds_chinese_substrings(
    client: TestClient, session_factory: sessionmaker[Session], admin: dict[str, str]
) -> None:
    with session_factory() as session:
        name = session.scalar(select(Unit.name).order_by(Unit.id).limit(1))
    assert name is not None
    part = name[1:3]
    features = _all_pages(client, f"/api/layers/units/features?q={part}&limit=1000", admin)
    assert features and all(part in f["properties"]["name"] for f in features)
    assert {f["id"] for f in features} == _db_ids(session_factory, Unit.name.contains(part))


def test_properties_selection_and_gcj02_output(client: TestClient, admin: dict[str, str]) -> None:
    plain = client.get("/api/layers/units/features?limit=3&properties=name,risk_level",
                       headers=admin).json()  # fmt: skip
    assert all(set(f["properties"]) == {"name", "risk_level"} for f in plain["features"])
    gcj = client.get("/api/layers/units/features?limit=3&properties=name&crs=gcj02",
                     headers=admin).json()  # fmt: skip
    for wgs, mars in zip(plain["features"], gcj["features"], strict=True):
        lon, lat = wgs["geometry"]["coordinates"]
        expected = convert(lon, lat, "wgs84", "gcj02")
        assert mars["geometry"]["coordinates"] == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(
    ("query", "needle"),
    [
        ("limit=0", "limit"), ("limit=10001", "limit"), ("bbox=1,2,3", "bbox"),
        ("bbox=117,40,116,39", "bbox"), ("colour=red", "colour"), ("risk_level=high", "risk_level"),
        ("sort=lines", "sort"), ("properties=nope", "nope"), ("cursor=!!!", "cursor"),
        ("crs=utm", "crs"), ("category=a&category=b", "twice"), ("category=,", "give a value"),
    ],
)  # fmt: skip
def test_bad_list_parameters_are_precise_422s(
    client: TestClient, admin: dict[str, str], query: str, needle: str
) -> None:
    response = client.get(f"/api/layers/units/features?{query}", headers=admin)
    assert response.status_code == 422, response.text
    assert needle in response.json()["detail"]


def test_unknown_layer_is_404(client: TestClient, admin: dict[str, str]) -> None:
    assert client.get("/api/layers/nope/features", headers=admin).status_code == 404


def test_create_replace_delete_with_versions_and_gcj02_input(
    client: TestClient, session_factory: sessionmaker[Session], admin: dict[str, str]
) -> None:
    lon, lat = convert(116.3975, 39.9087, "wgs84", "gcj02")
    body = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"name": "列表单位", "category": "bank", "risk_level": 2}}  # fmt: skip
    created = client.post("/api/layers/units/features?crs=gcj02", json=body, headers=admin)
    assert created.status_code == 201, created.text
    assert created.headers["etag"] == '"1"'
    location = created.headers["location"]
    fid = created.json()["id"]
    assert location.endswith(f"/api/layers/units/features/{fid}")
    stored = client.get(location, headers=admin).json()
    assert stored["geometry"]["coordinates"] == pytest.approx([116.3975, 39.9087], abs=1e-6)

    body["properties"] = {"name": "列表测试单位二", "category": "bank"}
    assert client.put(location, json=body, headers=admin).status_code == 428
    stale = client.put(location, json=body, headers={**admin, "If-Match": '"7"'})
    assert stale.status_code == 412 and stale.headers["etag"] == '"1"'
    replaced = client.put(location + "?crs=gcj02", json=body, headers={**admin, "If-Match": '"1"'})
    assert replaced.status_code == 200, replaced.text
    assert replaced.headers["etag"] == '"2"'
    assert replaced.json()["properties"]["risk_level"] == 1  # PUT resets what is not sent

    missing = {**body, "properties": {"name": "缺类别"}}
    bad = client.put(location, json=missing, headers={**admin, "If-Match": '"2"'})
    assert bad.status_code == 422 and "category" in bad.json()["detail"]

    assert client.delete(location, headers=admin).status_code == 428
    assert client.delete(location, headers={**admin, "If-Match": '"1"'}).status_code == 412
    assert client.delete(location, headers={**admin, "If-Match": '"2"'}).status_code == 204
    assert client.get(location, headers=admin).status_code == 404
    assert not _db_ids(session_factory, Unit.id == fid)


@pytest.mark.parametrize(
    ("geometry", "needle"),
    [
        ({"type": "Point", "coordinates": [39.9, 116.4]}, "outside China"),
        ({"type": "Point", "coordinates": ["a", 1]}, "coordinates"),
        ({"type": "Polygon", "coordinates": [[[116.4, 39.9], [116.5, 39.9]]]}, "linearring"),
        ({"type": "Circle", "coordinates": [116.4, 39.9]}, "type"),
    ],
)  # fmt: skip
def test_bad_geometry_on_create_is_a_422_and_writes_nothing(
    client: TestClient, session_factory: sessionmaker[Session], admin: dict[str, str],
    geometry: dict[str, Any], needle: str,
) -> None:  # fmt: skip
    before = _db_ids(session_factory)
    body = {"geometry": geometry, "properties": {"name": "坏几何", "category": "bank"}}
    response = client.post("/api/layers/units/features", json=body, headers=admin)
    assert response.status_code == 422, response.text
    assert needle in response.json()["detail"]
    assert _db_ids(session_factory) == before
