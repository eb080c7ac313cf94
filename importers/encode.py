"""Accepted rows as the layer stores them, encoded as CSV for PostgreSQL's COPY.

Columns are built as Arrow arrays (H3 cells, precinct ids, hex EWKB geometry, the
typed attribute text) and written by Arrow's C++ CSV writer: a million points
encode in about a second, where pandas' ``to_csv`` took six. An empty field is NULL,
as COPY's CSV format reads it.
"""

from __future__ import annotations

import io

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from geo import hexes
from importers.checks import CheckedPlaces
from importers.convert import arrow_text
from layers.base import AreaFeature
from layers.features.jurisdiction import NO_ID, IdArray
from layers.features.registry import LayerSpec

_WRITE = pacsv.WriteOptions(include_header=False, quoting_style="needed")


def has_cover(spec: LayerSpec) -> bool:
    """Return whether the layer keeps an H3 cover (polygon layers)."""
    return issubclass(spec.model, AreaFeature)


def copy_columns(spec: LayerSpec, attributes: list[str]) -> list[str]:
    """Return the columns an import writes, in COPY order."""
    cover = ["h3_cover"] if has_cover(spec) else []
    return ["external_id", *attributes, "geom", "h3_cell", *cover, "precinct_id", "district_id"]


def _text(values: pd.Series) -> pa.Array:
    """Return text values as an Arrow string array, '' as NULL."""
    array = arrow_text(values)
    return pc.if_else(pc.equal(array, ""), pa.scalar(None, pa.string()), array)


def _ids(ids: IdArray) -> pa.Array:
    return pa.array(ids, type=pa.int64(), mask=ids == NO_ID)


def _cells(spec: LayerSpec, placed: CheckedPlaces) -> list[pa.Array]:
    """Return ``h3_cell`` (and ``h3_cover`` for areas) of every row."""
    cells = hexes.cells_of_points(placed.x, placed.y)
    if not has_cover(spec):
        return [pa.array(cells, type=pa.int64())]
    shapes = placed.places.as_shapes()
    covers = ["{" + ",".join(map(str, hexes.cover_polygon(shape))) + "}" for shape in shapes]
    return [pa.array(cells, type=pa.int64()), pa.array(covers, type=pa.string())]


def encode_rows(
    spec: LayerSpec, attributes: dict[str, pd.Series], external_id: pd.Series | None,
    placed: CheckedPlaces,
) -> pa.Table:  # fmt: skip
    """Return the accepted rows of a chunk as a table in ``copy_columns`` order."""
    n = len(placed.x)
    ids = _text(external_id) if external_id is not None else pa.nulls(n, pa.string())
    arrays = [ids, *(_text(values) for values in attributes.values()),
              placed.places.ewkb_hex(), *_cells(spec, placed),
              _ids(placed.precinct_id), _ids(placed.district_id)]  # fmt: skip
    return pa.Table.from_arrays(arrays, names=copy_columns(spec, list(attributes)))


def csv_bytes(table: pa.Table) -> bytes:
    """Return ``table`` as COPY-ready CSV (no header, NULL as an empty field)."""
    buffer = io.BytesIO()
    pacsv.write_csv(table, buffer, _WRITE)
    return buffer.getvalue()


def accepted_bounds(placed: CheckedPlaces) -> tuple[float, float, float, float] | None:
    """Return the box around the geometries of a chunk's accepted rows."""
    if len(placed.x) == 0:
        return None
    bounds: npt.NDArray[np.float64] = placed.places.bounds()
    return (float(bounds[:, 0].min()), float(bounds[:, 1].min()),
            float(bounds[:, 2].max()), float(bounds[:, 3].max()))  # fmt: skip
