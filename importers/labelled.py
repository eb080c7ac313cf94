"""Write features of several layers, each row labelled (its ring, its layer), to one file.

What a perimeter's contents or a map selection exports: GeoJSON, KML, CSV (UTF-8 with
a BOM, so Excel reads Chinese) or XLSX, through the same writers as layer exports
(formula-like text escaped, lists joined). Coordinates are WGS84.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from importers.writers import WRITE_FORMATS, Written, write_table
from layers.errors import InvalidInput
from layers.features.query import FeatureRow

FORMATS = ("geojson", "kml", "csv", "xlsx")


@dataclass(frozen=True)
class LabelledRow:
    """A feature (GeoJSON row) with the labels that go before its properties."""

    labels: Mapping[str, str]
    feature: FeatureRow


def check_format(fmt: str) -> str:
    """Return ``fmt`` if labelled rows can be written in it, or raise ``InvalidInput``."""
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown export format {fmt!r}; choose from: {', '.join(FORMATS)}")
    return fmt


def file_name(stem: str, fmt: str) -> str:
    """Return the file name of an export of ``stem`` in ``fmt``."""
    return f"{stem}{WRITE_FORMATS[check_format(fmt)][0]}"


def write_labelled(rows: Sequence[LabelledRow], fmt: str, path: Path, layer: str) -> Written:
    """Write ``rows`` to ``path`` as ``fmt``: labels, ``id``, then each feature's properties."""
    check_format(fmt)
    records = [
        {**row.labels, "id": row.feature.id, **json.loads(row.feature.properties)}
        for row in rows
    ]  # fmt: skip
    frame = pd.DataFrame.from_records(records)
    geoms = np.asarray(shapely.from_geojson([row.feature.geometry for row in rows]), dtype=object)
    return write_table(frame, geoms, None, fmt, path, layer=layer)
