"""GTFS ``stops.txt``: stations by default (``location_type`` 1), every stop with ``--table all``.

``--table lines`` makes one line per route of the stations instead (``importers.stop_lines``).

Columns keep their GTFS names; the mapping step recognises ``stop_lon``/``stop_lat``,
and ``stop_name``, ``stop_code`` and ``stop_id`` are proposed as name, code and id.
"""

from __future__ import annotations

from importers.base import Importer, SourceTable
from importers.csv_ import read_delimited
from importers.stop_lines import gtfs_lines
from layers.errors import InvalidInput

GTFS_MAPPING = {"name": "stop_name", "code": "stop_code"}
GTFS_ID_FIELD = "stop_id"


class GTFSImporter(Importer):
    """Read a GTFS stops file."""

    name = "gtfs"

    def read(self) -> SourceTable:
        """Return the stations (or all stops) of the feed."""
        table = read_delimited(self, self.name)
        if "stop_id" not in table.columns or "stop_lat" not in table.columns:
            raise InvalidInput(f"{self.path.name} is not a GTFS stops file (no stop_id/stop_lat)")
        which = self.options.table or "stations"
        if which not in {"stations", "all", "lines"}:
            raise InvalidInput("for GTFS, --table is 'stations' (default), 'all' or 'lines'")
        if which == "lines":
            return gtfs_lines(table, self.path)
        if which == "stations" and "location_type" in table.columns:
            keep = table.columns["location_type"] == "1"
            table.notes.append(f"kept {int(keep.sum())} stations of {len(keep)} stops "
                               "(location_type 1); --table all imports every stop")  # fmt: skip
            table.columns = table.columns[keep].reset_index(drop=True)
        table.suggested_map = dict(GTFS_MAPPING)
        table.suggested_id = GTFS_ID_FIELD
        return table
