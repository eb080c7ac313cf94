"""Odd input that once made a 500 is a precise 4xx (or, when it is valid, a right answer)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from layers.features.models import Incident, Unit

ITEMS = "/ogc/collections/units/items"
TILE = "/tiles/units/12/3372/1552.mvt"  # central Beijing, below the units' point zoom
TILEJSON = "/tiles/units.json"
FEATURES = "/api/layers/units/features"
NEW_UNIT = {"geometry": {"type": "Point", "coordinates": [116.404, 39.915]},
            "properties": {"name": "某单位", "category": "bank"}}  # fmt: skip


def _refused(response: Any, status: int = 422) -> str:
    """Assert a JSON 4xx with a message; return the message."""
    assert response.status_code == status, response.text
    detail: str = response.json()["detail"]
    assert detail
    return detail


def _filtered(client: TestClient, headers: dict[str, str], url: str, cql: str,
              lang: str = "cql2-text") -> Any:  # fmt: skip
    params = {"filter": cql} if url.startswith("/tiles") else {"filter": cql, "filter-lang": lang}
    return client.get(url, params=params, headers=headers)


# 4. CQL2: a pattern ending in the escape character; filters too long or too deep.


@pytest.mark.parametrize("url", [ITEMS, TILE, TILEJSON])
def test_like_pattern_ending_in_the_escape_character_is_refused(
    client: TestClient, admin: dict[str, str], url: str
) -> None:
    detail = _refused(_filtered(client, admin, url, "name LIKE '\\'"))
    assert "escape" in detail


def test_like_with_an_escaped_escape_character_still_matches(
    client: TestClient, admin: dict[str, str]
) -> None:
    body = _filtered(client, admin, ITEMS, "name LIKE '%\\\\' OR name LIKE '\\%%'").json()
    assert body["features"] == []  # no demo name holds a backslash or starts with '%'


@pytest.mark.parametrize("url", [ITEMS, TILE, TILEJSON])
@pytest.mark.parametrize("op", ["AND", "OR"])
def test_a_filter_of_too_many_terms_is_refused(
    client: TestClient, admin: dict[str, str], url: str, op: str
) -> None:
    cql = f" {op} ".join(f"risk_level = {i % 4 + 1}" for i in range(600))
    assert "terms" in _refused(_filtered(client, admin, url, cql))


@pytest.mark.parametrize("url", [ITEMS, TILE, TILEJSON])
def test_a_filter_nested_too_deep_is_refused(
    client: TestClient, admin: dict[str, str], url: str
) -> None:
    text = "risk_level = 1"
    for i in range(700):  # risk_level = 1 AND (risk_level = 1 OR (...)): 700 levels
        text = f"risk_level = 1 {('AND', 'OR')[i % 2]} ({text})"
    assert "deep" in _refused(_filtered(client, admin, url, text))
    if url == ITEMS:
        inner = '{"op": "=", "args": [{"property": "risk_level"}, 1]}'
        tree = '{"op": "not", "args": [' * 700 + inner + "]}" * 700
        assert "deep" in _refused(_filtered(client, admin, url, tree, "cql2-json"))


def test_a_long_flat_filter_within_the_limits_is_answered(
    client: TestClient, session_factory: sessionmaker[Session], admin: dict[str, str]
) -> None:
    with session_factory() as session:
        ids = session.scalars(select(Unit.id).order_by(Unit.id).limit(100)).all()
    cql = " OR ".join(f"id = {i}" for i in ids)
    body = _filtered(client, admin, f"{ITEMS}?limit=1000", cql).json()
    assert sorted(f["id"] for f in body["features"]) == list(ids)


# 5. Cursors made by hand.


def _cursor(*parts: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).decode().rstrip("=")


@pytest.mark.parametrize("sort,parts", [
    ("name", ("name", False, 5, 1)),             # a number for a text sort key
    ("risk_level", ("risk_level", False, "x", 1)),  # text for a number
    ("risk_level", ("risk_level", False, True, 1)),
    ("name", ("name", False, ["a"], 1)),
    ("name", ("name", False, "a\u0000b", 1)),   # text PostgreSQL cannot store
    ("name", ("name", False, "\ud800", 1)),      # a lone surrogate
    ("id", ("id", False, 2**70, 2**70)),         # beyond bigint
    ("id", ("id", False, 5, True)),
    ("-id", ("id", True, None, 3)),
    ("name", ("name", False, "a", 1, "extra")),
])  # fmt: skip
def test_a_hand_made_cursor_is_refused(
    client: TestClient, admin: dict[str, str], sort: str, parts: tuple[Any, ...]
) -> None:
    response = client.get(FEATURES, params={"sort": sort, "cursor": _cursor(*parts)},
                          headers=admin)  # fmt: skip
    assert "cursor" in _refused(response)


def test_a_cursor_made_from_values_of_the_right_type_pages_on(
    client: TestClient, session_factory: sessionmaker[Session], admin: dict[str, str]
) -> None:
    with session_factory() as session:
        names = session.scalars(select(Unit.name).order_by(Unit.name, Unit.id).limit(3)).all()
    cursor = _cursor("name", False, names[0], 0)
    body = client.get(FEATURES, params={"sort": "name", "cursor": cursor, "limit": 2},
                      headers=admin).json()  # fmt: skip
    assert [f["properties"]["name"] for f in body["features"]] == names[:2]


# 6. NUL, lone surrogates, offsets PostgreSQL refuses, If-Match of 5,000 digits.


@pytest.mark.parametrize("url", [
    "/api/search?q=a%00b", f"{FEATURES}?q=%00%00", f"{FEATURES}?name=a%00",
    f"{ITEMS}?name=a%00", f"{ITEMS}?filter=name%20%3D%20%27%00%27",
    f"{TILE}?filter=name%20%3D%20%27%00%27", f"{TILEJSON}?filter=name%20%3D%20%27%00%27",
    "/api/layers/units/nearest?point=116.39,39.9&name=%00",
])  # fmt: skip
def test_nul_in_a_query_parameter_is_refused(
    client: TestClient, admin: dict[str, str], url: str
) -> None:
    assert "NUL" in _refused(client.get(url, headers=admin))


@pytest.mark.parametrize("literal", ["a\u0000b", "\udfff"])
def test_unstorable_text_in_a_cql2_json_literal_is_refused(
    client: TestClient, admin: dict[str, str], literal: str
) -> None:
    tree = {"op": "=", "args": [{"property": "name"}, literal]}
    _refused(_filtered(client, admin, ITEMS, json.dumps(tree), "cql2-json"))


def _post(client: TestClient, url: str, text: str, headers: dict[str, str]) -> Any:
    return client.post(url, content=text.encode("utf-8", "surrogatepass"),
                       headers={**headers, "content-type": "application/json"})  # fmt: skip


@pytest.mark.parametrize("escape", ["\\u0000", "\\ud800", "\\udc00x"])
def test_unstorable_text_in_a_feature_is_refused(
    client: TestClient, session_factory: sessionmaker[Session], admin: dict[str, str],
    escape: str,
) -> None:  # fmt: skip
    body = json.dumps(NEW_UNIT, ensure_ascii=False).replace("某单位", f"某{escape}单位")
    _refused(_post(client, FEATURES, body, admin))
    with session_factory() as session:
        unit_id, version = session.execute(select(Unit.id, Unit.version).limit(1)).one()
    patch = json.dumps({"properties": {"address": "x"}}).replace("x", escape)
    response = client.patch(f"{FEATURES}/{unit_id}", content=patch,
                            headers={**admin, "If-Match": f'"{version}"',
                                     "content-type": "application/json"})  # fmt: skip
    _refused(response)


def test_raw_surrogate_bytes_and_unstorable_keys_in_json_are_refused(
    client: TestClient, admin: dict[str, str]
) -> None:
    raw = json.dumps(NEW_UNIT, ensure_ascii=False).encode().replace("某".encode(), b"\xed\xa0\x80")
    response = client.post(FEATURES, content=raw,
                           headers={**admin, "content-type": "application/json"})  # fmt: skip
    _refused(response)
    body = (
        '{"geometry": {"type": "Point", "coordinates": [116.4, 39.9]}, '
        '"properties": {"na\\u0000me": "x"}}'
    )
    _refused(_post(client, FEATURES, body, admin))
    login = '{"username": "admin\\u0000", "password": "\\ud800"}'
    _refused(_post(client, "/api/auth/login", login, {}))
    spatial = (
        '{"layers": ["units"], "point": [116.39, 39.9], "radius_m": 100, '
        '"filters": {"units": {"name": "\\u0000"}}}'
    )
    _refused(_post(client, "/api/spatial/query", spatial, admin))


def test_an_escaped_backslash_before_u0000_is_plain_text(
    client: TestClient, admin: dict[str, str]
) -> None:
    body = json.dumps({**NEW_UNIT, "properties": {"name": "a\\u0000b", "category": "bank"}})
    response = _post(client, FEATURES, body, admin)
    assert response.status_code == 201, response.text
    assert response.json()["properties"]["name"] == "a\\u0000b"
    gone = client.delete(f"{FEATURES}/{response.json()['id']}",
                         headers={**admin, "If-Match": response.headers["etag"]})  # fmt: skip
    assert gone.status_code == 204


def test_an_offset_of_nearly_a_day_is_an_instant_like_any_other(
    client: TestClient, session_factory: sessionmaker[Session], admin: dict[str, str]
) -> None:
    stamp = "2026-01-01T00:00:00-23:59"  # 2026-01-01T23:59:00Z
    for url in ("/ogc/collections/incidents/items", "/api/layers/incidents/features"):
        response = client.get(url, params={"datetime": f"{stamp}/.."}, headers=admin)
        assert response.status_code == 200, response.text
    properties = {"name": "警情", "category": "theft", "occurred_at": stamp}
    body = {"geometry": NEW_UNIT["geometry"], "properties": properties}
    response = client.post("/api/layers/incidents/features", json=body, headers=admin)
    assert response.status_code == 201, response.text
    with session_factory() as session:
        stored = session.scalar(select(Incident.occurred_at).where(
            Incident.id == response.json()["id"]))  # fmt: skip
    assert stored is not None and stored.isoformat().startswith("2026-01-01T23:59:00")
    gone = client.delete(f"/api/layers/incidents/features/{response.json()['id']}",
                         headers={**admin, "If-Match": response.headers["etag"]})  # fmt: skip
    assert gone.status_code == 204


@pytest.mark.parametrize("stamp", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_an_instant_beyond_the_calendar_is_refused(
    client: TestClient, admin: dict[str, str], stamp: str
) -> None:
    _refused(client.get(ITEMS, params={"datetime": stamp}, headers=admin))


@pytest.mark.parametrize("tag", ['"' + "9" * 5000 + '"', "9" * 40, '"1x"'])
def test_an_if_match_that_is_no_version_is_refused(
    client: TestClient, session_factory: sessionmaker[Session], admin: dict[str, str], tag: str
) -> None:
    with session_factory() as session:
        unit_id = session.scalar(select(Unit.id).limit(1))
    url = f"{FEATURES}/{unit_id}"
    for response in (
        client.patch(url, json={"properties": {}}, headers={**admin, "If-Match": tag}),
        client.delete(url, headers={**admin, "If-Match": tag}),
    ):
        assert "If-Match" in _refused(response)
