"""Shapefiles, zipped (.shp/.shx/.dbf with .prj and .cpg) or as a bare .shp beside its files."""

from __future__ import annotations

import tempfile
from pathlib import Path

from importers.base import Importer, SourceTable
from importers.dbf import restore_long_text
from importers.files import detect_encoding, safe_extract
from importers.ogr import read_ogr
from layers.errors import InvalidInput

_SAMPLE_BYTES = 1 << 20


def dbf_encoding(shp: Path) -> tuple[str, str]:
    """Return the encoding of a shapefile's attributes and how we know it (.cpg or guess)."""
    cpg = shp.with_suffix(".cpg")
    if cpg.exists():
        declared = cpg.read_text(errors="ignore").strip()
        if declared:
            return declared, "declared in .cpg"
    dbf = shp.with_suffix(".dbf")
    if not dbf.exists():
        raise InvalidInput(f"{shp.name} has no .dbf beside it")
    data = dbf.read_bytes()[:_SAMPLE_BYTES]
    header_len = int.from_bytes(data[8:10], "little")
    names = b"".join(data[i : i + 11].rstrip(b"\0") for i in range(32, header_len - 1, 32))
    return detect_encoding(names + data[header_len:]), "detected (no .cpg)"


def read_shapefile(shp: Path, encoding: str | None) -> SourceTable:
    """Read one .shp honouring .prj and .cpg (or a detected encoding), long text restored."""
    notes = []
    if encoding is None:
        encoding, how = dbf_encoding(shp)
        notes.append(f"attribute encoding {encoding} {how}")
    table = read_ogr(shp, "shapefile", layer=None, encoding=encoding)
    restore_long_text(table, shp)
    if not shp.with_suffix(".prj").exists():
        notes.append("no .prj: coordinates read as WGS84 unless --crs says otherwise")
    table.notes.extend(notes)
    return table


class ShapefileImporter(Importer):
    """A zipped shapefile (the usual way they travel) or a .shp path."""

    name = "shapefile"

    def read(self) -> SourceTable:
        """Return the shapefile's features; a zip must hold exactly one .shp (or --table)."""
        if self.path.suffix.lower() == ".shp":
            return read_shapefile(self.path, self.options.encoding)
        with tempfile.TemporaryDirectory(prefix="warroom-shp-") as tmp:
            files = safe_extract(self.path, Path(tmp))
            shps = [p for p in files if p.suffix.lower() == ".shp"]
            if self.options.table is not None:
                shps = [p for p in shps if p.stem == self.options.table]
            if len(shps) != 1:
                names = ", ".join(p.stem for p in shps) or "none"
                raise InvalidInput(f"{self.path.name} must hold one .shp (or pick one with "
                                   f"--table); found: {names}")  # fmt: skip
            return read_shapefile(shps[0], self.options.encoding)
