"""GeoJSON (RFC 7946) output written straight from query rows, without re-parsing geometry."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from fastapi.responses import Response

from layers.features.query import FeatureRow

GEOJSON = "application/geo+json"


class GeoJSONResponse(Response):
    """A response whose body is already GeoJSON text."""

    media_type = GEOJSON


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def feature_text(row: FeatureRow) -> str:
    """Return one row as a GeoJSON Feature text."""
    return (f'{{"type":"Feature","id":{row.id},"geometry":{row.geometry},'
            f'"properties":{row.properties}}}')  # fmt: skip


def collection_text(rows: Iterable[FeatureRow], **members: Any) -> str:
    """Return a FeatureCollection text of ``rows`` with extra top-level ``members``."""
    features = ",".join(feature_text(row) for row in rows)
    extra = "".join(f",{_dumps(k)}:{_dumps(v)}" for k, v in members.items())
    return f'{{"type":"FeatureCollection","features":[{features}]{extra}}}'
