"""The generated city as plain arrays: one ``LayerData`` per feature table, ready for COPY."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

Column = npt.NDArray[Any] | list[Any]


@dataclass(frozen=True)
class LayerData:
    """Rows of one feature table: WGS84 shapely geometries and attribute columns of equal length.

    Columns hold numpy arrays (strings, integers, booleans, ``datetime64``) or, for
    array-valued and nullable columns, lists. ``h3_cell``/``h3_cover`` are left to the loader.
    """

    table: str
    geom: npt.NDArray[np.object_]
    columns: dict[str, Column]

    def __len__(self) -> int:
        return len(self.geom)

    def reordered(self, order: npt.NDArray[np.intp]) -> LayerData:
        """Return the same rows in the order of the row indexes ``order``."""
        columns = {
            name: [values[i] for i in order] if isinstance(values, list) else values[order]
            for name, values in self.columns.items()
        }
        return LayerData(self.table, self.geom[order], columns)


@dataclass(frozen=True)
class CityData:
    """A whole demo city: its layers in load order and the station order of each rail line."""

    seed: int
    reference_time: datetime
    layers: list[LayerData]
    rail_lines: dict[str, list[int]]

    def layer(self, table: str) -> LayerData:
        """Return the layer of ``table``."""
        return next(layer for layer in self.layers if layer.table == table)
