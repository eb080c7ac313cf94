"""Write rows with geometries in every format we import, so exports and reject files
round-trip through the importers."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from openpyxl import Workbook
from pyproj import CRS

from importers.base import GeometryArray
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


def _flat(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        out[column] = [",".join(map(str, v)) if isinstance(v, list) else v for v in out[column]]
    return out


def with_coordinate_columns(frame: pd.DataFrame, geoms: GeometryArray) -> pd.DataFrame:
    """Return ``frame`` plus lon/lat columns (points) or a wkt column (anything else)."""
    out = frame.copy()
    present = ~shapely.is_missing(geoms)
    if present.any() and bool(np.all(shapely.get_type_id(geoms[present]) == 0)):
        out["lon"] = np.where(present, shapely.get_x(geoms), np.nan).round(7)
        out["lat"] = np.where(present, shapely.get_y(geoms), np.nan).round(7)
    else:
        out["wkt"] = shapely.to_wkt(geoms, rounding_precision=7)
    return out


def _xlsx(frame: pd.DataFrame) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("data")
    sheet.append([str(c) for c in frame.columns])
    for row in frame.itertuples(index=False):
        sheet.append([None if isinstance(v, float) and np.isnan(v) else v for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _zip_shapefile(frame: gpd.GeoDataFrame, path: Path, layer: str) -> None:
    with tempfile.TemporaryDirectory(prefix="warroom-shp-out-") as tmp:
        shp = Path(tmp) / f"{layer}.shp"
        frame = frame.rename(columns=lambda name: name[:10])  # the DBF limit, said out loud
        frame.to_file(shp, driver="ESRI Shapefile", engine="pyogrio", encoding="UTF-8")
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for part in sorted(Path(tmp).iterdir()):
                archive.write(part, part.name)


def write_table(
    frame: pd.DataFrame, geoms: GeometryArray | None, crs: CRS | None, fmt: str, path: Path,
    *, layer: str = "data",
) -> Path:  # fmt: skip
    """Write rows (and geometries) as ``fmt`` to ``path``; return the path written."""
    if fmt not in WRITE_FORMATS:
        raise InvalidInput(f"unknown export format {fmt!r}; known: {', '.join(WRITE_FORMATS)}")
    flat = _flat(frame)
    if fmt in {"csv", "xlsx"}:
        table = flat if geoms is None else with_coordinate_columns(flat, geoms)
        data = _xlsx(table) if fmt == "xlsx" else table.to_csv(index=False).encode("utf-8-sig")
        path.write_bytes(data)
        return path
    if fmt == "kml" and "name" in flat.columns:
        flat = flat.rename(columns={"name": "Name"})
    shapes = geoms if geoms is not None else np.full(len(flat), None, dtype=object)
    geo = gpd.GeoDataFrame(flat, geometry=gpd.GeoSeries(list(shapes)), crs=crs or "EPSG:4326")
    if fmt == "shp":
        _zip_shapefile(geo, path, layer)
    else:
        geo.to_file(path, driver=WRITE_FORMATS[fmt][1], engine="pyogrio", layer=layer)
    return path
