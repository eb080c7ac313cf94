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


def collection_pieces(rows: Iterable[FeatureRow], **members: Any) -> list[bytes]:
    """Return a FeatureCollection of ``rows`` with top-level ``members`` as UTF-8 pieces.

    ``b"".join`` them once, as late as possible: a page of 1000 features is a megabyte,
    and glibc serves every extra copy of that size with fresh pages (~1.5 ms of faults),
    so features are encoded one by one and never joined into a text of their own.
    """
    features = [
        f'{{"type":"Feature","id":{fid},"geometry":{geometry},"properties":{properties}}}'.encode()
        for fid, geometry, properties in rows
    ]
    extra = "".join(f",{_dumps(k)}:{_dumps(v)}" for k, v in members.items())
    head, tail = b'{"type":"FeatureCollection","features":[', f"]{extra}}}".encode()
    if not features:
        return [head, tail]
    pieces = [b","] * (2 * len(features) + 1)  # head, f1, ",", f2, ..., ",", fn, tail
    pieces[0], pieces[-1] = head, tail
    pieces[1:-1:2] = features
    return pieces


def collection_text(rows: Iterable[FeatureRow], **members: Any) -> bytes:
    """Return a FeatureCollection of ``rows`` with top-level ``members`` as UTF-8 JSON."""
    return b"".join(collection_pieces(rows, **members))
