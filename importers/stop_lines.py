"""Lines from stops in travel order: ``--table lines`` of a GTFS stops file or a CSV of stops.

A line layer (``rail_lines``, ``roads``) has no file of its own in many sources, only
its stops in order. Two of them are read here, one line per route:

- **GTFS** ``stops.txt`` whose feed has no shapes or trips (the Beijing subway's): its
  stations (``location_type`` 1) grouped by line code, the first two digits of
  ``stop_code`` (the operator's own numbering), ordered by ``stop_code``. Codes the
  operator gives to a section of a route are that route's (``SECTION_ROUTES``); a
  section's stations are chained to the route's other sections end to end. A route
  whose last station lies as near its first as its stations lie to each other is a ring
  and closes. Names and colours come from ``routes.txt`` beside the file.
- **CSV** of line stops: a line id column (``line_id``, ``route_id``, ``线路编号``), a
  sequence column (``seq``, ``stop_sequence``, ``序号``) and coordinate columns; each
  line keeps its first row's other values and says how many stops it has. Columns
  named ``lon_gcj02``/``lat_gcj02`` (or ``_bd09``) declare their CRS, as for points.

Coordinates are not converted here: the pipeline converts the lines to WGS84 as any
geometry, from the CRS the file or ``--crs`` gives.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
from shapely.geometry import MultiLineString

from importers.base import SourceTable
from importers.mapping import LAT_NAMES, LON_NAMES
from importers.offset_crs import offset_crs, offset_of_columns
from layers.errors import InvalidInput

__all__ = ["SECTION_ROUTES", "chain_sections", "csv_stop_lines", "gtfs_lines"]

Coords = npt.NDArray[np.float64]

# The Beijing subway's line codes of sections run as part of another route (its GTFS
# route_id): 10号线's second half, 大兴线 (4号线), 八通线 (1号线), and the lines whose
# code is not their route id. Other codes name their route themselves (01 is route 01).
SECTION_ROUTES = {
    "90": "10", "93": "04", "97": "01", "88": "da", "89": "xj", "91": "S1", "92": "yf",
    "94": "cp", "95": "fs", "96": "yz", "98": "ca",
}  # fmt: skip
LINE_ID_NAMES = ("line_id", "route_id", "shape_id", "线路编号", "线路id", "线路")
SEQUENCE_NAMES = ("seq", "stop_sequence", "sequence", "序号", "站序")
_KM_PER_DEG = 111.32
_JOIN_KM = 3.0  # sections of a route whose ends lie this close are one chain (or 3 gaps)
_RING_MIN_STOPS = 6


def _km(a: Coords, b: Coords) -> float:
    """Return the distance between two lon/lat points in km (flat at their latitude)."""
    scale = np.array([np.cos(np.radians((a[1] + b[1]) / 2.0)), 1.0]) * _KM_PER_DEG
    return float(np.hypot(*((a - b) * scale)))


def _gaps_km(chain: Coords) -> list[float]:
    return [_km(chain[i], chain[i + 1]) for i in range(len(chain) - 1)]


def chain_sections(sections: list[Coords]) -> list[Coords]:
    """Return the sections joined end to end where they meet; rings closed.

    Each section is an (n, 2) array of stops in order. A section continues the chain
    when one of its ends lies within 3 km (or 3 of the chain's median gaps) of the
    chain's last stop (it is reversed if its far end is the near one); otherwise it
    starts a new part. A chain of at least 6 stops whose last stop lies within twice its
    median gap of its first is a ring: its first stop is repeated at the end.

    Examples
    --------
    >>> square = np.array([[116.35, 39.95], [116.43, 39.95], [116.43, 39.90], [116.35, 39.90]])
    >>> west = square[3] + (square[0] - square[3]) / 2
    >>> ring = np.array([square[0], (square[0] + square[1]) / 2, *square[1:], west])
    >>> [len(part) for part in chain_sections([ring])]
    [7]
    >>> [len(part) for part in chain_sections([square[:2], square[2:][::-1]])]
    [4]
    """
    parts: list[Coords] = []
    for section in sections:
        if parts:
            chain = parts[-1]
            reach = max(_JOIN_KM, 3.0 * float(np.median(_gaps_km(chain) or [0.0])))
            head, tail = _km(chain[-1], section[0]), _km(chain[-1], section[-1])
            if min(head, tail) <= reach:
                parts[-1] = np.vstack([chain, section if head <= tail else section[::-1]])
                continue
        parts.append(section)
    closed = []
    for part in parts:
        gaps = _gaps_km(part)
        if len(part) >= _RING_MIN_STOPS and _km(part[-1], part[0]) <= 2.0 * np.median(gaps):
            part = np.vstack([part, part[:1]])
        closed.append(part)
    return closed


def _coordinates(frame: pd.DataFrame, lon: str, lat: str) -> tuple[Coords, npt.NDArray[np.bool_]]:
    """Return the (lon, lat) pairs of ``frame`` and which rows have both."""
    xy = np.column_stack([pd.to_numeric(frame[c], errors="coerce").to_numpy(float)
                          for c in (lon, lat)])  # fmt: skip
    return xy, np.isfinite(xy).all(axis=1)


def _routes(path: Path) -> pd.DataFrame:
    """Return ``routes.txt`` beside ``path`` (route_id, names, colour), or no rows."""
    routes = path.with_name("routes.txt")
    columns = ["route_id", "route_short_name", "route_long_name", "route_color"]
    if not routes.exists():
        return pd.DataFrame(columns=columns)
    frame = pd.read_csv(routes, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    frame = frame.reindex(columns=columns, fill_value="")
    frame["route_color"] = [f"#{c.upper()}" if len(c) == 6 else "" for c in frame["route_color"]]
    return frame.set_index("route_id")


def gtfs_lines(table: SourceTable, path: Path) -> SourceTable:
    """Return one line per route of the stations of GTFS ``table`` (read from ``path``)."""
    stops = table.columns
    if "stop_code" not in stops.columns:
        raise InvalidInput(f"{path.name} has no stop_code: lines need the operator's codes")
    stations = stops[stops["location_type"] == "1"] if "location_type" in stops.columns else stops
    xy, placed = _coordinates(stations, "stop_lon", "stop_lat")
    coded = (stations["stop_code"].str.len() >= 2).to_numpy()
    keep = placed & coded
    table.notes.append(f"{int((~keep).sum())} stations without coordinates or stop_code left out")
    stations, xy = stations[keep].reset_index(drop=True), xy[keep]
    codes = stations["stop_code"].str[:2]
    routes = _routes(path)
    rows, geoms = [], []
    sections: dict[str, list[tuple[str, Coords]]] = {}
    for code in sorted(set(codes)):
        at = np.flatnonzero((codes == code).to_numpy())
        at = at[np.argsort(stations["stop_code"].to_numpy()[at], kind="stable")]
        sections.setdefault(SECTION_ROUTES.get(code, code), []).append((code, xy[at]))
    for route, parts in sections.items():
        long_enough = [coords for _, coords in parts if len(coords) >= 2]
        if not long_enough:
            table.notes.append(f"line {route}: one station only, left out")
            continue
        known = route in routes.index
        rows.append({
            "route_id": route,
            "route_short_name": routes.at[route, "route_short_name"] if known else f"{route}线",
            "route_long_name": routes.at[route, "route_long_name"] if known else "",
            "route_color": routes.at[route, "route_color"] if known else "",
            "line_codes": ",".join(code for code, _ in parts),
            "stations": str(sum(len(coords) for coords in long_enough)),
        })  # fmt: skip
        geoms.append(MultiLineString([c.tolist() for c in chain_sections(long_enough)]))
    table.notes.append(f"{len(rows)} lines from {len(stations)} stations")
    table.columns = pd.DataFrame(rows, columns=[
        "route_id", "route_short_name", "route_long_name", "route_color", "line_codes", "stations",
    ])  # fmt: skip
    table.geometry = np.array(geoms, dtype=object)
    table.suggested_map = {"name": "route_short_name", "code": "route_id", "colour": "route_color"}
    table.suggested_id = "route_id"
    return table


def _column(columns: list[str], names: tuple[str, ...], prefixes: tuple[str, ...] = ()) -> str:
    lowered = {c.strip().lower(): c for c in columns}
    found = next((lowered[n] for n in names if n in lowered), None)
    found = found or next((c for k, c in lowered.items() if prefixes and k.startswith(prefixes)),
                          None)  # fmt: skip
    if found is None:
        raise InvalidInput(f"--table lines needs a column named one of {', '.join(names)}; "
                           f"columns: {', '.join(columns)}")  # fmt: skip
    return found


def csv_stop_lines(table: SourceTable) -> SourceTable:
    """Return one line per line id of a CSV of stops, in the order of its sequence column."""
    frame = table.columns
    columns = [str(c) for c in frame.columns]
    line = _column(columns, LINE_ID_NAMES)
    seq = _column(columns, SEQUENCE_NAMES)
    lon = _column(columns, LON_NAMES, ("lon", "lng", "经度"))
    lat = _column(columns, LAT_NAMES, ("lat", "纬度"))
    xy, placed = _coordinates(frame, lon, lat)
    order = pd.to_numeric(frame[seq], errors="coerce").to_numpy(float)
    keep = placed & np.isfinite(order) & (frame[line] != "").to_numpy()
    if (~keep).any():
        table.notes.append(f"{int((~keep).sum())} stops without line, sequence or coordinates "
                           "left out")  # fmt: skip
    frame, xy, order = frame[keep].reset_index(drop=True), xy[keep], order[keep]
    rank = np.lexsort((order, frame[line].to_numpy()))
    frame, xy = frame.iloc[rank].reset_index(drop=True), xy[rank]
    starts = np.flatnonzero(np.r_[True, frame[line].to_numpy()[1:] != frame[line].to_numpy()[:-1]])
    ends = np.r_[starts[1:], len(frame)]
    single = ends - starts < 2
    if single.any():
        table.notes.append(f"{int(single.sum())} lines with one stop only left out")
    starts, ends = starts[~single], ends[~single]
    lines = frame.iloc[starts].drop(columns=[seq, lon, lat]).reset_index(drop=True)
    lines["stops"] = (ends - starts).astype(str)
    table.columns = lines
    table.geometry = np.array(
        [MultiLineString([xy[a:b].tolist()]) for a, b in zip(starts, ends, strict=True)],
        dtype=object,
    )
    system = offset_of_columns(lon, lat)
    if system is not None:
        table.crs = offset_crs(system)
        table.notes.append(f"coordinates in {system.value}: their columns' names say so")
    name = next((c for c in ("line_name", "name", "线路名称", "名称") if c in lines.columns), None)
    table.suggested_map = {"code": line, **({"name": name} if name else {})}
    table.suggested_id = line
    table.notes.append(f"{len(lines)} lines from {int(keep.sum())} stops")
    return table
