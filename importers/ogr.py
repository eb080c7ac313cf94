"""Read any GDAL vector source with pyogrio into a ``SourceTable``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
from pyogrio.errors import DataLayerError, DataSourceError
from pyproj import CRS

from importers.base import SourceTable, text_frame
from layers.errors import InvalidInput


def layer_names(path: Path) -> list[str]:
    """Return the layer (table) names of a vector source."""
    try:
        return [str(name) for name in pyogrio.list_layers(path)[:, 0]]
    except DataSourceError as exc:
        raise InvalidInput(f"cannot open {path.name}: {exc}") from exc


def choose_layer(path: Path, wanted: str | None) -> str:
    """Return ``wanted`` if the source has it, else its only layer; explain otherwise."""
    names = layer_names(path)
    if wanted is not None:
        if wanted not in names:
            raise InvalidInput(f"{path.name} has no table {wanted!r}; tables: {', '.join(names)}")
        return wanted
    if len(names) != 1:
        raise InvalidInput(f"{path.name} holds several tables; choose one with --table: "
                           f"{', '.join(names)}")  # fmt: skip
    return names[0]


def read_ogr(path: Path, fmt: str, *, layer: str | None, encoding: str | None) -> SourceTable:
    """Return a layer of ``path`` with its declared CRS (None when it declares none)."""
    try:
        frame = pyogrio.read_dataframe(path, layer=layer, encoding=encoding)
    except (DataSourceError, DataLayerError) as exc:
        raise InvalidInput(f"cannot read {path.name}: {exc}") from exc
    crs = CRS.from_user_input(frame.crs) if frame.crs is not None else None
    geoms = np.asarray(frame.geometry.array, dtype=object)
    columns = text_frame(pd.DataFrame(frame.drop(columns=frame.geometry.name)))
    return SourceTable(columns, geoms, crs, fmt, encoding)


def concat(tables: list[SourceTable], fmt: str) -> SourceTable:
    """Return several tables of one source as one (e.g. the folders of a KML)."""
    if not tables:
        raise InvalidInput("the file holds no features")
    columns = pd.concat([t.columns for t in tables], ignore_index=True).fillna("")
    geoms = np.concatenate([t.geometry for t in tables if t.geometry is not None])
    return SourceTable(columns, geoms, tables[0].crs, fmt, tables[0].encoding)
