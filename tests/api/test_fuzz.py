"""Property-based bad input: whatever a client sends to the query API, the answer is never 5xx."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FUZZ = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
numbers = st.one_of(st.integers(-(10**12), 10**12), st.floats(allow_nan=True, allow_infinity=True))
words = st.one_of(
    st.text(max_size=30), numbers.map(str),
    st.sampled_from(["..", "1..", "..3", "a,b", "116.3,39.8,116.5,40.0", "-id", "name",
                     "risk_level >= 3", "S_INTERSECTS(geometry, BBOX(116,39,117,40))",
                     "((", "'", "%", "\\", "wgs84", "gcj02", "bd09", "2026-01-01/..", "html"]),
)  # fmt: skip
param_names = st.sampled_from([
    "bbox", "limit", "cursor", "q", "sort", "properties", "crs", "risk_level", "category",
    "name", "lines", "occurred_at", "point", "k", "resolution", "sum", "filter", "filter-lang",
    "datetime", "f", "layers", "zzz",
])  # fmt: skip
params = st.dictionaries(param_names, words, max_size=5)
coordinate = st.lists(numbers, min_size=0, max_size=3)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=10)),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12,
)  # fmt: skip
geometries = st.fixed_dictionaries({
    "type": st.sampled_from(["Point", "LineString", "Polygon", "MultiPolygon", "Nope"]),
    "coordinates": st.one_of(coordinate, st.lists(coordinate, max_size=5),
                             st.lists(st.lists(coordinate, max_size=6), max_size=2), json_values),
})  # fmt: skip
regions = st.fixed_dictionaries(
    {"layers": st.one_of(st.lists(st.sampled_from(["units", "parks", "nope"]), max_size=3),
                         json_values)},
    optional={"geometry": st.one_of(geometries, json_values), "point": coordinate,
              "radius_m": numbers, "line": st.lists(coordinate, max_size=4), "buffer_m": numbers,
              "relation": st.sampled_from(["intersects", "within", "x"]), "limit": numbers,
              "filters": json_values},
)  # fmt: skip
GET_URLS = [
    "/api/layers/units/features", "/api/layers/incidents/features", "/api/layers/units/nearest",
    "/api/layers/units/hexbins", "/api/search", "/ogc/collections/units/items",
    "/ogc/collections/incidents/items", "/api/layers/nope/features",
]  # fmt: skip


def _post(client: TestClient, url: str, body: Any, headers: dict[str, str]) -> Any:
    """POST ``body`` as JSON, NaN and Infinity included (as a careless client would)."""
    return client.post(url, content=json.dumps(body),
                       headers={**headers, "content-type": "application/json"})  # fmt: skip


def _no_5xx(response: Any) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.json()["detail"]


@FUZZ
@given(url=st.sampled_from(GET_URLS), query=params)
def test_get_endpoints_never_fail_with_5xx(
    client: TestClient, admin: dict[str, str], url: str, query: dict[str, str]
) -> None:
    _no_5xx(client.get(f"{url}?{urlencode(query)}", headers=admin))


@FUZZ
@given(body=regions)
def test_spatial_query_never_fails_with_5xx(
    client: TestClient, admin: dict[str, str], body: dict[str, Any]
) -> None:
    _no_5xx(_post(client, "/api/spatial/query", body, admin))


@FUZZ
@given(geometry=st.one_of(geometries, json_values), properties=json_values,
       layer=st.sampled_from(["units", "parks", "incidents"]))  # fmt: skip
def test_feature_creation_never_fails_with_5xx(
    client: TestClient, admin: dict[str, str], geometry: Any, properties: Any, layer: str
) -> None:
    url = f"/api/layers/{layer}/features"
    response = _post(client, url, {"geometry": geometry, "properties": properties}, admin)
    _no_5xx(response)
    if response.status_code == 201:  # leave the shared city as it was
        gone = client.delete(f"{url}/{response.json()['id']}",
                             headers={**admin, "If-Match": response.headers["etag"]})  # fmt: skip
        assert gone.status_code == 204
