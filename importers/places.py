"""Where each imported row lies: two coordinate columns, or one shape per row.

A sheet of a million units with 经度/纬度 columns stays two float arrays from the file
to the COPY stream (building a million shapely points alone takes ~1.7 s); formats
that carry geometries keep them as a shapely object array.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import shapely

from importers.base import GeometryArray

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
CoordFn = Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]]
WGS84_SRID = 4326
# Little-endian EWKB of a 2D point with an SRID: byte order, type | SRID flag, SRID, x, y.
_EWKB_POINT = np.dtype([("order", "u1"), ("type", "<u4"), ("srid", "<u4"), ("x", "<f8"),
                        ("y", "<f8")])  # fmt: skip
_EWKB_POINT_TYPE = 0x20000001


@dataclass(frozen=True)
class Places:
    """Row locations: ``x``/``y`` arrays (NaN where missing) or ``shapes`` (None where missing)."""

    shapes: GeometryArray | None = None
    x: FloatArray | None = None
    y: FloatArray | None = None

    @classmethod
    def of_points(cls, x: npt.ArrayLike, y: npt.ArrayLike) -> Places:
        """Return places given as coordinate arrays."""
        return cls(x=np.asarray(x, dtype=np.float64), y=np.asarray(y, dtype=np.float64))

    @classmethod
    def of_shapes(cls, shapes: npt.ArrayLike) -> Places:
        """Return places given as geometries."""
        return cls(shapes=np.asarray(shapes, dtype=object))

    @property
    def is_points(self) -> bool:
        """Return whether the places are coordinate pairs (no shapes)."""
        return self.shapes is None

    def __len__(self) -> int:
        return len(self.shapes) if self.shapes is not None else len(self._xy()[0])

    def _xy(self) -> tuple[FloatArray, FloatArray]:
        assert self.x is not None and self.y is not None
        return self.x, self.y

    def missing(self) -> BoolArray:
        """Return where a row has no location (no or empty geometry, no coordinates)."""
        if self.shapes is not None:
            return np.asarray(shapely.is_missing(self.shapes) | shapely.is_empty(self.shapes))
        x, y = self._xy()
        return ~(np.isfinite(x) & np.isfinite(y))

    def bounds(self) -> FloatArray:
        """Return each row's ``(minx, miny, maxx, maxy)`` (NaN where missing)."""
        if self.shapes is not None:
            return np.asarray(shapely.bounds(self.shapes), dtype=np.float64)
        x, y = self._xy()
        return np.column_stack([x, y, x, y])

    def centres(self) -> tuple[FloatArray, FloatArray]:
        """Return the centre of each place's box (NaN where missing)."""
        bounds = self.bounds()
        return (bounds[:, 0] + bounds[:, 2]) / 2, (bounds[:, 1] + bounds[:, 3]) / 2

    def map_coords(self, fn: CoordFn) -> Places:
        """Return the places with every coordinate passed through ``fn(x, y)`` (vectorised)."""
        if self.shapes is None:
            return Places.of_points(*fn(*self._xy()))

        def apply(coords: FloatArray) -> FloatArray:
            x, y = fn(coords[:, 0], coords[:, 1])
            return np.column_stack([x, y])

        return Places.of_shapes(shapely.transform(self.shapes, apply))

    def take(self, index: npt.NDArray[np.intp] | BoolArray | slice) -> Places:
        """Return the places of the given rows."""
        if self.shapes is not None:
            return Places(shapes=self.shapes[index])
        x, y = self._xy()
        return Places(x=x[index], y=y[index])

    def as_shapes(self) -> GeometryArray:
        """Return every place as a shapely geometry (None where missing)."""
        if self.shapes is not None:
            return self.shapes
        x, y = self._xy()
        shapes = np.asarray(shapely.points(x, y), dtype=object)
        shapes[~(np.isfinite(x) & np.isfinite(y))] = None
        return shapes

    def ewkb(self) -> pa.BinaryArray:
        """Return each place as EWKB with SRID 4326 (what PostGIS reads in binary COPY)."""
        if self.shapes is not None:
            with_srid = shapely.set_srid(self.shapes, WGS84_SRID)
            return pa.array(shapely.to_wkb(with_srid, include_srid=True), pa.binary())
        return point_ewkb(*self._xy(), WGS84_SRID)


def point_ewkb(x: FloatArray, y: FloatArray, srid: int) -> pa.BinaryArray:
    """Return the points ``(x, y)`` as EWKB with ``srid``, one binary value each."""
    records = np.empty(len(x), dtype=_EWKB_POINT)
    records["order"], records["type"], records["srid"] = 1, _EWKB_POINT_TYPE, srid
    records["x"], records["y"] = x, y
    width = _EWKB_POINT.itemsize
    offsets = np.arange(0, width * (len(x) + 1), width, dtype=np.int32)
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(records.tobytes())]
    return pa.BinaryArray.from_buffers(pa.binary(), len(x), buffers)
