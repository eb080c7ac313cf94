"""The JSON documents of OGC API – Features: landing page, conformance, collections."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from layers.features.registry import AttrType, LayerSpec
from layers.features.stats import LayerStats

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
GREGORIAN = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
TimeSpan = tuple[datetime | None, datetime | None]
GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"
_CORE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
_FILTER = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/"
_CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf/"
# Only what the tests in tests/api/test_ogc.py exercise; not oas30 (FastAPI writes 3.1).
CONFORMANCE = [
    _CORE + "core", _CORE + "geojson", _CORE + "html",
    _FILTER + "queryables", _FILTER + "queryables-query-parameters", _FILTER + "filter",
    _FILTER + "features-filter",
    _CQL2 + "cql2-text", _CQL2 + "cql2-json", _CQL2 + "basic-cql2",
    _CQL2 + "advanced-comparison-operators", _CQL2 + "basic-spatial-functions",
    _CQL2 + "basic-spatial-functions-plus", _CQL2 + "spatial-functions",
]  # fmt: skip
_JSON_TYPES: dict[AttrType, dict[str, Any]] = {
    AttrType.STRING: {"type": "string"}, AttrType.INTEGER: {"type": "integer"},
    AttrType.BOOLEAN: {"type": "boolean"}, AttrType.DATE: {"type": "string", "format": "date"},
    AttrType.DATETIME: {"type": "string", "format": "date-time"},
    AttrType.STRING_LIST: {"type": "array", "items": {"type": "string"}},
}  # fmt: skip


def link(href: str, rel: str, type_: str, title: str | None = None) -> dict[str, str]:
    """Return one link object."""
    out = {"href": href, "rel": rel, "type": type_}
    if title:
        out["title"] = title
    return out


def landing(base: str) -> dict[str, Any]:
    """Return the landing page of the service rooted at ``base`` (``…/ogc``)."""
    return {
        "title": "Warroom 社会治安防控 — OGC API Features",
        "description": "Feature layers of the bureau's spatial command map.",
        "links": [
            link(base, "self", JSON, "this document"),
            link(f"{base}?f=html", "alternate", HTML, "this document as HTML"),
            link(f"{base}/api", "service-desc", "application/vnd.oai.openapi+json", "OpenAPI"),
            link(f"{base}/conformance", "conformance", JSON, "conformance classes"),
            link(f"{base}/collections", "data", JSON, "feature collections"),
        ],
    }


def collection(
    base: str, spec: LayerSpec, stats: LayerStats, times: TimeSpan | None = None
) -> dict[str, Any]:
    """Return the description of one layer as a collection (``times``: its temporal extent)."""
    href = f"{base}/collections/{spec.id}"
    extent = list(stats.extent) if stats.extent else [73.0, 3.8, 135.1, 53.6]
    extents: dict[str, Any] = {"spatial": {"bbox": [extent], "crs": CRS84}}
    if times is not None:
        interval = [t.isoformat(timespec="seconds") if t else None for t in times]
        extents["temporal"] = {"interval": [interval], "trs": GREGORIAN}
    return {
        "id": spec.id,
        "title": spec.title,
        "description": f"{spec.title} ({spec.geometry_type})",
        "itemType": "feature",
        "crs": [CRS84],
        "storageCrs": CRS84,
        "extent": extents,
        "links": [
            link(href, "self", JSON),
            link(f"{href}/items", "items", GEOJSON, "items as GeoJSON"),
            link(f"{href}/items?f=html", "items", HTML, "items as HTML"),
            link(
                f"{href}/queryables",
                "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                "application/schema+json",
                "queryables",
            ),
        ],
    }


def queryables(base: str, spec: LayerSpec) -> dict[str, Any]:
    """Return the JSON Schema of the properties a layer can be filtered by."""
    geometry_format = f"geometry-{spec.geometry_type.lower()}"
    properties: dict[str, Any] = {
        "geometry": {"format": geometry_format, "x-ogc-role": "primary-geometry"},
        "id": {"type": "integer", "title": "id", "x-ogc-role": "id"},
    }
    for attribute in spec.attributes:
        schema: dict[str, Any] = {**_JSON_TYPES[attribute.type], "title": attribute.title}
        if attribute.choices:
            schema["enum"] = list(attribute.choices)
        properties[attribute.name] = schema
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{base}/collections/{spec.id}/queryables",
        "type": "object",
        "title": spec.title,
        "properties": properties,
        "additionalProperties": False,
    }
