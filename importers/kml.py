"""KML and KMZ from field tablets and Google Earth: every folder, or the one named."""

from __future__ import annotations

import tempfile
from pathlib import Path

from importers.base import Importer, SourceTable
from importers.files import safe_extract
from importers.ogr import concat, layer_names, read_ogr
from layers.errors import InvalidInput


def _read_kml(path: Path, table: str | None) -> SourceTable:
    names = [table] if table is not None else layer_names(path)
    tables = [read_ogr(path, "kml", layer=name, encoding=None) for name in names]
    return _own_id(concat([t for t in tables if len(t)], "kml"))


def _own_id(table: SourceTable) -> SourceTable:
    """Give a field named ``id`` its name back; GDAL reads it as ``id2`` beside ``id``.

    GDAL fills ``id`` with each Placemark's XML id (``units.1``), which is kept as
    ``placemark_id``.
    """
    if {"id", "id2"} <= set(table.columns.columns):
        table.columns = table.columns.rename(columns={"id": "placemark_id", "id2": "id"})
    return table


class KMLImporter(Importer):
    """Read placemarks of a .kml, or of the .kml inside a .kmz; KML is always WGS84."""

    name = "kml"

    def read(self) -> SourceTable:
        """Return the placemarks' names, descriptions, extended data and geometries."""
        if self.path.suffix.lower() != ".kmz":
            return _read_kml(self.path, self.options.table)
        with tempfile.TemporaryDirectory(prefix="warroom-kmz-") as tmp:
            docs = [p for p in safe_extract(self.path, Path(tmp)) if p.suffix.lower() == ".kml"]
            if not docs:
                raise InvalidInput(f"{self.path.name} holds no .kml document")
            return _read_kml(docs[0], self.options.table)
