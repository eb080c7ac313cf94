"""Base-map lines of the demo city: its rail lines in their colours and its roads.

Both come from the same geography as the stations and the simulator's roads
(``layers.demo.geography``, ``layers.demo.network``), so the demo draws its own base map
on a machine with nothing but the repository.
"""

from __future__ import annotations

import numpy as np
from shapely.geometry import MultiLineString

from layers.demo.data import LayerData
from layers.demo.geography import RAIL_LINES, RINGS
from layers.demo.names import STR
from layers.demo.network import roads

# The lines' official colours (the Beijing subway's own, as its GTFS routes.txt gives them).
RAIL_COLOURS = {
    "01": "#C23A30", "02": "#006098", "04": "#008E9C", "05": "#A6217F", "06": "#D29700",
    "08": "#009B6B", "09": "#8FC31F", "10": "#009BC0", "13": "#F9E700", "YZ": "#E40077",
    "CP": "#DE82B2", "FS": "#E46022", "AE": "#A29BBB",
}  # fmt: skip
_RING_NAMES = {name for name, _, _ in RINGS}


def rail_line_layer() -> LayerData:
    """Return one line per rail line, along the path its stations were placed on (loops closed)."""
    geoms = [
        MultiLineString([(*spec.path, spec.path[0]) if spec.loop else spec.path])
        for spec in RAIL_LINES
    ]
    return LayerData("rail_lines", np.array(geoms, dtype=object), {
        "external_id": np.array([f"L{spec.code}" for spec in RAIL_LINES], dtype=STR),
        "name": np.array([spec.name for spec in RAIL_LINES], dtype=STR),
        "code": np.array([spec.code for spec in RAIL_LINES], dtype=STR),
        "colour": np.array([RAIL_COLOURS[spec.code] for spec in RAIL_LINES], dtype=STR),
    })  # fmt: skip


def road_layer() -> LayerData:
    """Return the ring roads and the radial roads the simulator's vehicles drive along."""
    network = roads()
    kinds = [
        "ring_road" if road.name in _RING_NAMES
        else "expressway" if "高速" in road.name or "快速" in road.name
        else "arterial"
        for road in network
    ]  # fmt: skip
    geoms = np.array([MultiLineString([road.geom]) for road in network], dtype=object)
    return LayerData("roads", geoms, {
        "external_id": np.array([f"R{i + 1:03d}" for i in range(len(network))], dtype=STR),
        "name": np.array([road.name for road in network], dtype=STR),
        "code": np.array([f"{i + 1:03d}" for i in range(len(network))], dtype=STR),
        "kind": np.array(kinds, dtype=STR),
    })  # fmt: skip
