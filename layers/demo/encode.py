"""Encode generated layers as PostgreSQL COPY text: hex EWKB geometry, H3 cells, typed columns.

The generator never puts tabs, newlines or backslashes in text, so values need no escaping.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely

from geo.hexes import cells_of_points, coarser_cells, cover_polygon
from layers.demo.data import Column, LayerData
from layers.features.grams import column_of, grams_of_values
from layers.features.models import text_search_columns

NULL = r"\N"
SRID = 4326


def copy_columns(layer: LayerData) -> list[str]:
    """Return the table columns a COPY of ``layer`` fills, in row order."""
    area = _is_area(layer)
    grams = [column_of(text) for text in text_search_columns(layer.table, among=layer.columns)]
    return [*layer.columns, *grams, "h3_cell", "h3_coarse", *(["h3_cover"] if area else []),
            "geom"]  # fmt: skip


def copy_text(layer: LayerData, start: int, stop: int) -> str:
    """Return rows ``start:stop`` of ``layer`` as COPY text (one line per row)."""
    geoms = layer.geom[start:stop]
    area = _is_area(layer)
    # a point is its own anchor; an area's or a line's is a point on it (as the database's)
    points = len(geoms) > 0 and shapely.get_type_id(geoms[0]) == shapely.GeometryType.POINT
    anchors = geoms if points else shapely.point_on_surface(geoms)
    xy = shapely.get_coordinates(anchors)
    fields: list[list[str]] = [_text(values[start:stop]) for values in layer.columns.values()]
    for text in text_search_columns(layer.table, among=layer.columns):
        fields.append(_grams_text(list(layer.columns[text][start:stop])))
    cells = cells_of_points(xy[:, 0], xy[:, 1])
    fields.append(cells.astype(str).tolist())
    fields.append([_array(row) for row in coarser_cells(xy[:, 0], xy[:, 1], cells).tolist()])
    if area:
        fields.append([_array(cover_polygon(g)) for g in geoms])
    ewkb = shapely.to_wkb(shapely.set_srid(geoms, SRID), hex=True, include_srid=True)
    fields.append(ewkb.tolist())
    return "".join(line + "\n" for line in map("\t".join, zip(*fields, strict=True)))


def _grams_text(values: list[str | None]) -> list[str]:
    """Return the COPY text of the grams of each value (``layers.features.grams``)."""
    offsets, grams = grams_of_values(values)
    flat = list(map(str, grams.tolist()))
    return [NULL if v is None else "{" + ",".join(flat[offsets[i] : offsets[i + 1]]) + "}"
            for i, v in enumerate(values)]  # fmt: skip


def _is_area(layer: LayerData) -> bool:
    return (
        len(layer) > 0 and shapely.get_type_id(layer.geom[0]) == shapely.GeometryType.MULTIPOLYGON
    )


def _text(values: Column) -> list[str]:
    """Return COPY text for one column slice."""
    if isinstance(values, list):
        return [_value(v) for v in values]
    kind = values.dtype.kind
    if kind == "b":
        return np.where(values, "t", "f").tolist()
    if kind == "M":
        unit = np.datetime_data(values.dtype)[0]
        if unit == "D":
            return np.datetime_as_string(values).tolist()
        return np.datetime_as_string(values, unit="s", timezone="UTC").tolist()
    return values.astype(str).tolist() if kind in "iuf" else values.tolist()


def _value(value: Any) -> str:
    if value is None:
        return NULL
    if isinstance(value, list):
        return _array(value)
    return str(value)


def _array(values: list[Any]) -> str:
    return "{" + ",".join(str(v) for v in values) + "}"
