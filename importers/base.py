"""The importer contract and the registry of formats (after pygeoapi's provider/plugin).

An importer turns one file into a ``SourceTable``: its attribute columns as text, its
geometries (if the format has them) and the CRS the file declares. Everything after
that — column mapping, coordinate conversion, validation, loading — is shared.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd
from pyproj import CRS

from layers.errors import InvalidInput

GeometryArray = npt.NDArray[np.object_]

# Format name -> importer class, by dotted path so a format loads only when used.
FORMATS: dict[str, str] = {
    "geojson": "importers.geojson.GeoJSONImporter",
    "csv": "importers.csv_.CSVImporter",
    "xlsx": "importers.csv_.XLSXImporter",
    "shapefile": "importers.shapefile.ShapefileImporter",
    "gpkg": "importers.geopackage.GeoPackageImporter",
    "kml": "importers.kml.KMLImporter",
    "gtfs": "importers.gtfs.GTFSImporter",
}

EXTENSIONS: dict[str, str] = {
    ".geojson": "geojson", ".json": "geojson", ".csv": "csv", ".tsv": "csv", ".txt": "csv",
    ".xlsx": "xlsx", ".zip": "shapefile", ".shp": "shapefile", ".gpkg": "gpkg",
    ".kml": "kml", ".kmz": "kml",
}  # fmt: skip


@dataclass(frozen=True)
class ReadOptions:
    """What the user told us about the file: text encoding and which table/sheet/layer."""

    encoding: str | None = None
    table: str | None = None


@dataclass
class SourceTable:
    """A file's rows as read: text attributes, optional geometries, declared CRS."""

    columns: pd.DataFrame
    geometry: GeometryArray | None
    crs: CRS | None
    format: str
    encoding: str | None = None
    notes: list[str] = field(default_factory=list)
    # Column mapping and id column the format proposes (e.g. GTFS stop_name, stop_id).
    suggested_map: dict[str, str] = field(default_factory=dict)
    suggested_id: str | None = None

    def __len__(self) -> int:
        return len(self.columns)


class Importer(ABC):
    """Read one file of one format; subclasses implement ``read``."""

    name: ClassVar[str]

    def __init__(self, path: Path, options: ReadOptions) -> None:
        self.path = path
        self.options = options

    @abstractmethod
    def read(self) -> SourceTable:
        """Return the file's rows; raise ``InvalidInput`` if it cannot be read."""


def format_of(path: Path) -> str:
    """Return the format name of ``path`` from its name (``stops.txt`` is GTFS)."""
    if path.name.lower() == "stops.txt":
        return "gtfs"
    try:
        return EXTENSIONS[path.suffix.lower()]
    except KeyError:
        known = ", ".join(sorted(EXTENSIONS))
        raise InvalidInput(f"unsupported file type {path.suffix!r}; known: {known}") from None


def load_importer(path: Path, options: ReadOptions, fmt: str | None = None) -> Importer:
    """Return the importer for ``path`` (or the named ``fmt``)."""
    name = fmt or format_of(path)
    if name not in FORMATS:
        raise InvalidInput(f"unknown format {name!r}; known: {', '.join(FORMATS)}")
    module_name, _, class_name = FORMATS[name].rpartition(".")
    cls: type[Importer] = getattr(importlib.import_module(module_name), class_name)
    return cls(path, options)


def text_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with every value as text ('' for missing), lists kept as lists."""
    out = frame.astype(object).where(frame.notna(), "")
    for column in out.columns:
        values = out[column]
        out[column] = [v if isinstance(v, str | list) else _text(v) for v in values]
    return out.reset_index(drop=True)


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, np.ndarray):
        return ",".join(str(v) for v in value.tolist())
    return str(value)
