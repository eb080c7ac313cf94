"""What a shapefile's ``.dbf`` cannot hold, said out loud and kept beside it.

A dBASE field name has at most 10 bytes and a text value at most 254 bytes. Exports
name fields by their first 10 bytes (``external_id`` is ``external_i``; the import
finds a column by that truncation), and a longer text is cut at a character boundary
in the ``.dbf`` — what a GIS shows — while its full text goes into
``<layer>.long_text.csv`` in the same zip (``fid``, ``field``, ``value``). Our import
puts every such value back where the ``.dbf`` still holds its cut start, so a
shapefile export round-trips without loss; the export reports how many values it cut.
"""

from __future__ import annotations

import csv
import io
import tempfile
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from importers.base import SourceTable

DBF_NAME_BYTES = 10
DBF_TEXT_BYTES = 254
LONG_TEXT = ".long_text.csv"


def _short(name: str, taken: set[str]) -> str:
    """Return the first 10 bytes of ``name``, made unique among ``taken``."""
    short = name.encode()[:DBF_NAME_BYTES].decode(errors="ignore")
    number = 1
    while short in taken:
        tail = f"_{number}"
        short = name.encode()[: DBF_NAME_BYTES - len(tail)].decode(errors="ignore") + tail
        number += 1
    taken.add(short)
    return short


def _cut(value: str) -> str:
    return value.encode()[:DBF_TEXT_BYTES].decode(errors="ignore")


def _long_values(frame: pd.DataFrame) -> list[tuple[int, str, str]]:
    """Return (row, column, text) of every text longer than a ``.dbf`` holds."""
    found = []
    for column in frame.columns:
        values = frame[column]
        if column == frame.geometry.name or pd.api.types.infer_dtype(values) != "string":
            continue
        sizes = pc.binary_length(pa.array(values, pa.string(), from_pandas=True))
        for row in np.flatnonzero(pc.fill_null(pc.greater(sizes, DBF_TEXT_BYTES), False)):
            found.append((int(row), str(column), str(values.iloc[row])))
    return found


def write_shapefile_zip(frame: gpd.GeoDataFrame, path: Path, layer: str) -> tuple[int, list[str]]:
    """Write a zipped UTF-8 shapefile; return how many texts were cut and what to say."""
    taken: set[str] = set()
    names = {c: c if c == frame.geometry.name else _short(str(c), taken) for c in frame.columns}
    renamed = frame.rename(columns=names)
    long_values = [(row, names[column], text) for row, column, text in _long_values(frame)]
    for row, column, text in long_values:
        renamed.iat[row, renamed.columns.get_loc(column)] = _cut(text)
    notes = []
    changed = [f"{a} -> {b}" for a, b in names.items() if a != b]
    if changed:
        notes.append(f"shapefile field names hold 10 characters: {', '.join(changed)}")
    with tempfile.TemporaryDirectory(prefix="warroom-shp-out-") as tmp:
        shp = Path(tmp) / f"{layer}.shp"
        renamed.to_file(shp, driver="ESRI Shapefile", engine="pyogrio", encoding="UTF-8")
        if long_values:
            sidecar = shp.with_name(layer + LONG_TEXT)
            sidecar.write_bytes(_sidecar(long_values))
            fields = sorted({column for _, column, _ in long_values})
            notes.append(f"{len(long_values)} text values longer than {DBF_TEXT_BYTES} bytes "
                         f"(field {', '.join(fields)}) are cut in the .dbf, as a shapefile "
                         f"must; their full text is in {sidecar.name} in the zip, which "
                         "warroom import puts back")  # fmt: skip
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for part in sorted(Path(tmp).iterdir()):
                archive.write(part, part.name)
    return len(long_values), notes


def _sidecar(values: list[tuple[int, str, str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["fid", "field", "value"])
    writer.writerows(values)
    return buffer.getvalue().encode("utf-8")


def restore_long_text(table: SourceTable, shp: Path) -> None:
    """Put back the full text of values an export cut (``<name>.long_text.csv`` beside)."""
    sidecar = shp.with_name(shp.stem + LONG_TEXT)
    if not sidecar.exists():
        return
    rows = list(csv.DictReader(io.StringIO(sidecar.read_text(encoding="utf-8"))))
    columns, restored = table.columns, 0
    for entry in rows:
        row, column, text = int(entry["fid"]), entry["field"], entry["value"]
        kept = column in columns.columns and 0 <= row < len(columns)
        if kept and columns.at[row, column] == _cut(text):  # not edited since the export
            columns.at[row, column] = text
            restored += 1
    table.notes.append(f"{restored} of {len(rows)} long text values put back from "
                       f"{sidecar.name}")  # fmt: skip
