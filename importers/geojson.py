"""GeoJSON: a FeatureCollection (or one Feature), with the legacy ``crs`` member honoured."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from importers.base import Importer, SourceTable, text_frame
from importers.files import detect_encoding
from layers.errors import InvalidInput


def _declared_crs(document: dict[str, Any]) -> CRS | None:
    name = (document.get("crs") or {}).get("properties", {}).get("name")
    if not name:
        return None
    try:
        return CRS.from_user_input(name)
    except CRSError as exc:
        raise InvalidInput(f"GeoJSON declares an unknown crs {name!r}") from exc


def _geometry(raw: Any) -> Any:
    if not raw:
        return None
    try:
        return shapely.from_geojson(json.dumps(raw))
    except shapely.errors.GEOSException:
        return None


class GeoJSONImporter(Importer):
    """Read GeoJSON; undecodable geometries become empty and are rejected row by row."""

    name = "geojson"

    def read(self) -> SourceTable:
        """Return the features' properties and geometries."""
        data = self.path.read_bytes()
        encoding = self.options.encoding or detect_encoding(data)
        try:
            document = json.loads(data.decode(encoding))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"{self.path.name} is not valid JSON: {exc}") from exc
        if not isinstance(document, dict):
            raise InvalidInput(f"{self.path.name} is not a GeoJSON object")
        features = document.get("features")
        if document.get("type") == "Feature":
            features = [document]
        if not isinstance(features, list):
            raise InvalidInput(f"{self.path.name} is not a GeoJSON FeatureCollection")
        rows = [f.get("properties") or {} for f in features if isinstance(f, dict)]
        geoms = np.array([_geometry(f.get("geometry")) for f in features], dtype=object)
        columns = text_frame(pd.DataFrame.from_records(rows)) if rows else pd.DataFrame()
        return SourceTable(columns, geoms, _declared_crs(document), self.name, encoding)
