"""OGC API – Features: documents, items, paging, CQL2 filters, HTML and auth."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from layers.features.models import Incident, Unit
from layers.features.registry import all_layers

ITEMS = "/ogc/collections/units/items"
BOX = (116.30, 39.85, 116.50, 39.98)
BOX_SQL = func.ST_MakeEnvelope(*BOX, 4326)


def _get(client: TestClient, url: str, headers: dict[str, str]) -> dict[str, Any]:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _ids(client: TestClient, url: str, headers: dict[str, str]) -> list[int]:
    ids: list[int] = []
    while url:
        body = _get(client, url, headers)
        ids += [f["id"] for f in body["features"]]
        nexts = [k["href"] for k in body["links"] if k["rel"] == "next"]
        url = nexts[0] if nexts else ""
    return ids


def _db(session_factory: sessionmaker[Session], *where: Any) -> set[int]:
    with session_factory() as session:
        return set(session.scalars(select(Unit.id).where(*where)).all())


def test_landing_conformance_api_and_collections(client: TestClient, admin: dict[str, str]) -> None:
    landing = _get(client, "/ogc", admin)
    rels = {k["rel"] for k in landing["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= rels
    conformance = _get(client, "/ogc/conformance", admin)["conformsTo"]
    assert any(c.endswith("/conf/core") for c in conformance)
    assert any(c.endswith("/conf/cql2-text") for c in conformance)
    assert "openapi" in _get(client, "/ogc/api", admin)
    collections = _get(client, "/ogc/collections", admin)["collections"]
    assert [c["id"] for c in collections] == [s.id for s in all_layers()]
    units = _get(client, "/ogc/collections/units", admin)
    assert units["title"] == "单位" and len(units["extent"]["spatial"]["bbox"][0]) == 4
    queryables = _get(client, "/ogc/collections/units/queryables", admin)
    assert queryables["properties"]["risk_level"]["type"] == "integer"
    assert "geometry" in queryables["properties"]


def test_every_route_needs_a_token(client: TestClient) -> None:
    for url in ("/ogc", "/ogc/collections", ITEMS, "/ogc/conformance"):
        assert client.get(url).status_code == 401


def test_items_page_with_next_links_bbox_and_properties(
    client: TestClient, session_factory: sessionmaker[Session], admin: dict[str, str]
) -> None:
    bbox = ",".join(map(str, BOX))
    ids = _ids(client, f"{ITEMS}?bbox={bbox}&limit=100&properties=name", admin)
    assert len(ids) > 100 and len(ids) == len(set(ids))
    assert set(ids) == _db(session_factory, func.ST_Intersects(Unit.geom, BOX_SQL))
    first = _get(client, f"{ITEMS}?limit=2&properties=name,category", admin)
    assert first["numberReturned"] == 2 and "numberMatched" not in first
    assert set(first["features"][0]["properties"]) == {"name", "category"}
    tiny = _get(client, f"{ITEMS}?category=school&risk_level=4&limit=10000", admin)
    assert (
        tiny["numberMatched"]
        == tiny["numberReturned"]
        == len(_db(session_factory, Unit.category == "school", Unit.risk_level == 4))
    )
    one = tiny["features"][0]
    item = _get(client, f"{ITEMS}/{one['id']}", admin)
    assert item["id"] == one["id"] and item["geometry"]["type"] == "Point"


def test_datetime_interval_filters_incidents(
    client: TestClient, session_factory: sessionmaker[Session], admin: dict[str, str]
) -> None:
    with session_factory() as session:
        middle = session.scalar(
            select(Incident.occurred_at).order_by(Incident.occurred_at)
            .offset(session.scalar(select(func.count()).select_from(Incident)) // 2).limit(1)
        )  # fmt: skip
        assert middle is not None
        expected = set(session.scalars(select(Incident.id).where(
            Incident.occurred_at >= middle)).all())  # fmt: skip
    stamp = quote(middle.isoformat())
    url = f"/ogc/collections/incidents/items?datetime={stamp}/..&limit=10000"
    assert set(_ids(client, url, admin)) == expected


CQL_CASES = [
    ("cql2-text", "risk_level >= 3 AND category IN ('school','bank')",
     (Unit.risk_level >= 3, Unit.category.in_(["school", "bank"]))),
    ("cql2-text", "S_INTERSECTS(geometry, POLYGON((116.3 39.85, 116.5 39.85, 116.5 39.98, "
     "116.3 39.98, 116.3 39.85))) AND NOT is_key_unit = true",
     (func.ST_Intersects(Unit.geom, BOX_SQL), Unit.is_key_unit.is_not(True))),
    ("cql2-text", "S_INTERSECTS(geometry, BBOX(116.3, 39.85, 116.5, 39.98)) AND "
     "risk_level BETWEEN 2 AND 3", (func.ST_Intersects(Unit.geom, BOX_SQL),
                                     Unit.risk_level.between(2, 3))),
    ("cql2-text", "name LIKE '%学%' OR address IS NULL",
     ((Unit.name.like("%学%")) | Unit.address.is_(None),)),
    # looked up by the grams of their literal parts, rechecked by LIKE: the same rows
    ("cql2-text", "name LIKE '北京%有限公司'", (Unit.name.like("北京%有限公司"),)),
    ("cql2-text", "name LIKE '%银行_京%' AND address LIKE '%路%'",
     (Unit.name.like("%银行_京%"), Unit.address.like("%路%"))),
    ("cql2-json", json.dumps({"op": "and", "args": [
        {"op": "=", "args": [{"property": "category"}, "hospital"]},
        {"op": "s_intersects", "args": [{"property": "geometry"}, {"bbox": list(BOX)}]}]}),
     (Unit.category == "hospital", func.ST_Intersects(Unit.geom, BOX_SQL))),
]  # fmt: skip


@pytest.mark.parametrize(("lang", "text", "where"), CQL_CASES)
def test_cql2_filters_match_the_database(
    client: TestClient, session_factory: sessionmaker[Session], admin: dict[str, str],
    lang: str, text: str, where: tuple[Any, ...],
) -> None:  # fmt: skip
    url = f"{ITEMS}?filter-lang={lang}&filter={quote(text)}&limit=500"
    ids = _ids(client, url, admin)
    expected = _db(session_factory, *where)
    assert expected and set(ids) == expected


@pytest.mark.parametrize(
    "query",
    [
        "filter=risk_level >>> 3", "filter=colour = 'red'", "filter=risk_level = 'high'",
        "filter=name LIKE 3", "filter-lang=cql3&filter=risk_level=1",
        "filter-lang=cql2-json&filter={bad", "filter=S_INTERSECTS(geometry, BBOX(1,2,0,1))",
        "filter=S_INTERSECTS(geometry, POLYGON((116 39, 117 40)))",
        "filter=S_INTERSECTS(geometry, POINT(39.9 116.4))",
        "filter=foo(name) = 1", "datetime=yesterday", "datetime=2026-02-01/2026-01-01",
        "f=xml", "bbox=a,b,c,d", "limit=-1", "filter-crs=EPSG:3857&filter=risk_level=1",
        "crs=EPSG:3857", "bbox-crs=EPSG:3857&bbox=1,2,3,4",
    ],
)  # fmt: skip
def test_bad_item_requests_are_400s_not_500s(
    client: TestClient, admin: dict[str, str], query: str
) -> None:
    response = client.get(f"{ITEMS}?{query}", headers=admin)
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["detail"]


def test_html_encoding(client: TestClient, admin: dict[str, str]) -> None:
    for url in ("/ogc?f=html", "/ogc/collections?f=html", f"{ITEMS}?f=html&limit=3"):
        response = client.get(url, headers=admin)
        assert response.status_code == 200 and response.headers["content-type"].startswith(
            "text/html"
        )
        assert "<html" in response.text
    browser = client.get(ITEMS + "?limit=2", headers={**admin, "Accept": "text/html"})
    assert "<table " in browser.text and "<style" not in browser.text  # no inline style: CSP
