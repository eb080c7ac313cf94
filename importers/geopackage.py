"""GeoPackage: one table, chosen with ``--table`` when the package holds several."""

from __future__ import annotations

from importers.base import Importer, SourceTable
from importers.ogr import choose_layer, read_ogr


class GeoPackageImporter(Importer):
    """Read one feature table of a GeoPackage with its declared SRS."""

    name = "gpkg"

    def read(self) -> SourceTable:
        """Return the chosen table's features."""
        layer = choose_layer(self.path, self.options.table)
        return read_ogr(self.path, self.name, layer=layer, encoding=self.options.encoding)
