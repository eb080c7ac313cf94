"""Write rows with geometries in every format we import, so exports and reject files
round-trip through the importers.

Spreadsheet formats never carry a live formula (``importers.formulas``), shifted
coordinates are never labelled WGS 84 (``importers.offset_crs``), and what a format
cannot hold (a shapefile's 10-character field names, 254-byte text) is said in the
notes of the result and kept beside it (``importers.dbf``).
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from pyproj import CRS

from importers.base import GeometryArray
from importers.dbf import write_shapefile_zip
from importers.formulas import escape_csv_column, is_formula_like
from layers.errors import InvalidInput

# Format -> (file suffix, GDAL driver or None when we write it ourselves).
WRITE_FORMATS: dict[str, tuple[str, str | None]] = {
    "geojson": (".geojson", "GeoJSON"),
    "gpkg": (".gpkg", "GPKG"),
    "shp": (".zip", "ESRI Shapefile"),
    "kml": (".kml", "KML"),
    "csv": (".csv", None),
    "xlsx": (".xlsx", None),
}
# Reject files keep the format of the file they came from.
REJECT_FORMAT = {"geojson": "geojson", "gpkg": "gpkg", "shapefile": "shp", "kml": "kml",
                 "csv": "csv", "gtfs": "csv", "xlsx": "xlsx"}  # fmt: skip
_WGS84 = CRS.from_epsg(4326)


@dataclass
class Written:
    """A file written: where, how many values were cut to fit it, and what to tell about it."""

    path: Path
    cut: int = 0
    notes: list[str] = field(default_factory=list)


def _flat(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        out[column] = [",".join(map(str, v)) if isinstance(v, list) else v for v in out[column]]
    return out


def with_coordinate_columns(
    frame: pd.DataFrame, geoms: GeometryArray, suffix: str = ""
) -> pd.DataFrame:
    """Return ``frame`` plus lon/lat columns (points) or a wkt column (anything else).

    ``suffix`` names the coordinate system in the columns' names (``lon_gcj02``).
    """
    out = frame.copy()
    present = ~shapely.is_missing(geoms)
    if present.any() and bool(np.all(shapely.get_type_id(geoms[present]) == 0)):
        out[f"lon{suffix}"] = np.where(present, shapely.get_x(geoms), np.nan).round(7)
        out[f"lat{suffix}"] = np.where(present, shapely.get_y(geoms), np.nan).round(7)
    else:
        out[f"wkt{suffix}"] = shapely.to_wkt(geoms, rounding_precision=7)
    return out


def _csv(frame: pd.DataFrame) -> bytes:
    """Return UTF-8 CSV (BOM for Excel): formula-like text escaped, every text quoted."""
    escaped = pd.DataFrame({column: escape_csv_column(frame[column]) for column in frame.columns})
    text = escaped.to_csv(index=False, quoting=csv.QUOTE_NONNUMERIC)
    return text.encode("utf-8-sig")


def _xlsx_cell(sheet: WriteOnlyWorksheet, value: object) -> object:
    if isinstance(value, float) and np.isnan(value):
        return None
    if not (isinstance(value, str) and is_formula_like(value)):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"  # text, never a formula; quote prefix keeps it text when edited
    cell.quotePrefix = True
    return cell


def _xlsx(frame: pd.DataFrame) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("data")
    sheet.append([_xlsx_cell(sheet, str(c)) for c in frame.columns])
    for row in frame.itertuples(index=False):
        sheet.append([_xlsx_cell(sheet, v) for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _geojson(frame: pd.DataFrame, shapes: GeometryArray, crs: CRS, path: Path,
             layer: str) -> None:  # fmt: skip
    """Write GeoJSON; a CRS without an EPSG code goes into the ``crs`` member as WKT.

    GDAL would write such a file without a ``crs`` member, which every reader takes
    for CRS84 (RFC 7946): a GCJ-02 layer would then silently lie 500 m off.
    """
    if crs.to_epsg() is not None:
        geo = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(list(shapes)), crs=crs)
        geo.to_file(path, driver="GeoJSON", engine="pyogrio", layer=layer)
        return
    raw = path.with_name(path.name + ".part")
    with warnings.catch_warnings():  # "no crs": the member is added below
        warnings.simplefilter("ignore", UserWarning)
        gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(list(shapes))).to_file(
            raw, driver="GeoJSON", engine="pyogrio", layer=layer)  # fmt: skip
    member = {"type": "name", "properties": {"name": crs.to_wkt("WKT1_GDAL")}}
    with raw.open("rb") as source, path.open("wb") as out:
        head = source.read(1 << 16)
        at = head.index(b'"features": [')
        out.write(head[:at] + b'"crs": ' + json.dumps(member).encode() + b",\n" + head[at:])
        shutil.copyfileobj(source, out)
    raw.unlink()


def write_table(
    frame: pd.DataFrame, geoms: GeometryArray | None, crs: CRS | None, fmt: str, path: Path,
    *, layer: str = "data", coordinate_suffix: str = "",
) -> Written:  # fmt: skip
    """Write rows (and geometries) as ``fmt`` to ``path``; return what was written.

    ``crs`` is the system of ``geoms`` (WGS84 when None); ``coordinate_suffix`` names it
    in the coordinate columns of a CSV or XLSX file.
    """
    if fmt not in WRITE_FORMATS:
        raise InvalidInput(f"unknown export format {fmt!r}; known: {', '.join(WRITE_FORMATS)}")
    flat = _flat(frame)
    if fmt in {"csv", "xlsx"}:
        table = flat if geoms is None else with_coordinate_columns(flat, geoms, coordinate_suffix)
        path.write_bytes(_xlsx(table) if fmt == "xlsx" else _csv(table))
        return Written(path)
    if fmt == "kml" and "name" in flat.columns:
        flat = flat.rename(columns={"name": "Name"})
    shapes = geoms if geoms is not None else np.full(len(flat), None, dtype=object)
    system = crs or _WGS84
    if fmt == "geojson":
        _geojson(flat, shapes, system, path, layer)
        return Written(path)
    geo = gpd.GeoDataFrame(flat, geometry=gpd.GeoSeries(list(shapes)), crs=system)
    if fmt == "shp":
        cut, notes = write_shapefile_zip(geo, path, layer)
        return Written(path, cut, notes)
    geo.to_file(path, driver=WRITE_FORMATS[fmt][1], engine="pyogrio", layer=layer)
    return Written(path)
