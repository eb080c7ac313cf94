"""Map a file's columns to a layer's attributes: explicit, from a saved file, or detected.

``--map "name=单位名称,category='hospital',lon=X坐标"``: a plain value names a source
column, a quoted value is a constant, and ``lon``/``lat``/``wkt``/``external_id`` say
where coordinates and the id come from. Unmapped attributes are matched by name, by
Chinese title (``名称``, ``类别`` ...) or by a shapefile's 10-character truncation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from importers.base import SourceTable
from layers.errors import InvalidInput
from layers.features.registry import LayerSpec

LON_NAMES = ("经度", "lng", "lon", "long", "longitude", "stop_lon", "x", "x坐标", "坐标x")
LAT_NAMES = ("纬度", "lat", "latitude", "stop_lat", "y", "y坐标", "坐标y")
WKT_NAMES = ("wkt", "geometry", "geom", "the_geom", "shape", "几何")
ID_NAMES = ("external_id", "external_i")
SPECIAL = ("lon", "lat", "wkt", "external_id")


@dataclass(frozen=True)
class Constant:
    """A value given in the mapping instead of a column."""

    value: str


Source = str | Constant


@dataclass
class Mapping:
    """Where each attribute, the coordinates and the external id come from."""

    attributes: dict[str, Source] = field(default_factory=dict)
    lon: str | None = None
    lat: str | None = None
    wkt: str | None = None
    id_field: str | None = None

    def as_dict(self) -> dict[str, str]:
        """Return the mapping in the form a saved mapping file uses."""
        out = {k: f"'{v.value}'" if isinstance(v, Constant) else v
               for k, v in self.attributes.items()}  # fmt: skip
        special = {"lon": self.lon, "lat": self.lat, "wkt": self.wkt, "external_id": self.id_field}
        return out | {k: v for k, v in special.items() if v}


def parse_map(text: str) -> dict[str, str]:
    """Return ``{"name": "单位名称", ...}`` from ``name=单位名称,...`` (commas or new lines)."""
    pairs: dict[str, str] = {}
    for item in text.replace("\n", ",").split(","):
        if not item.strip():
            continue
        target, sep, source = item.partition("=")
        if not sep or not target.strip() or not source.strip():
            raise InvalidInput(f"mapping entry {item.strip()!r} is not attribute=column")
        pairs[target.strip()] = source.strip()
    return pairs


def load_map_file(path: Path) -> dict[str, str]:
    """Return a saved mapping: a JSON object, or ``attribute=column`` lines."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read mapping file {path}: {exc}") from exc
    if path.suffix.lower() != ".json":
        return parse_map(text)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"mapping file {path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise InvalidInput(f"mapping file {path} must be an object of attribute: column")
    return {str(k): v for k, v in data.items()}


def _source(value: str) -> Source:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return Constant(value[1:-1])
    return value


def _find(columns: list[str], names: tuple[str, ...], prefixes: tuple[str, ...] = ()) -> str | None:
    lowered = {c.strip().lower(): c for c in columns}
    for name in names:
        if name in lowered:
            return lowered[name]
    for key, column in lowered.items():
        if prefixes and key.startswith(prefixes):
            return column
    return None


def _check_columns(mapping: Mapping, columns: list[str]) -> None:
    used = [v for v in mapping.attributes.values() if isinstance(v, str)]
    used += [v for v in (mapping.lon, mapping.lat, mapping.wkt, mapping.id_field) if v]
    missing = [c for c in used if c not in columns]
    if missing:
        raise InvalidInput(f"the file has no column {', '.join(map(repr, missing))}; "
                           f"columns: {', '.join(columns)}")  # fmt: skip


def build_mapping(
    spec: LayerSpec, table: SourceTable, given: dict[str, str], id_field: str | None
) -> Mapping:
    """Return the mapping: ``given`` entries first, then what the file's columns suggest."""
    known = {a.name for a in spec.attributes}
    unknown = [k for k in given if k not in known and k not in SPECIAL]
    if unknown:
        raise InvalidInput(f"layer {spec.id!r} has no attribute {', '.join(unknown)}; "
                           f"attributes: {', '.join(sorted(known))}")  # fmt: skip
    columns = [str(c) for c in table.columns.columns]
    mapping = Mapping(
        attributes={k: _source(v) for k, v in given.items() if k in known},
        lon=given.get("lon"), lat=given.get("lat"), wkt=given.get("wkt"),
        id_field=id_field or given.get("external_id") or table.suggested_id
        or _find(columns, ID_NAMES),
    )  # fmt: skip
    for attribute in spec.attributes:
        if attribute.name in mapping.attributes:
            continue
        suggested = table.suggested_map.get(attribute.name)
        names = (attribute.name, attribute.title.lower(), attribute.name[:10])
        found = suggested if suggested in columns else _find(columns, names)
        if found is not None:
            mapping.attributes[attribute.name] = found
    if table.geometry is None and not mapping.wkt and not (mapping.lon and mapping.lat):
        mapping.lon = mapping.lon or _find(columns, LON_NAMES, ("lon", "lng", "经度"))
        mapping.lat = mapping.lat or _find(columns, LAT_NAMES, ("lat", "纬度"))
        if not (mapping.lon and mapping.lat):
            mapping.wkt = _find(columns, WKT_NAMES)
        if not mapping.wkt and not (mapping.lon and mapping.lat):
            raise InvalidInput("found no coordinate columns (经度/纬度, lng/lat, lon/lat, x/y) "
                               "and no WKT column; name them with --map lon=...,lat=... or "
                               f"wkt=...; columns: {', '.join(columns)}")  # fmt: skip
    _check_columns(mapping, columns)
    return mapping
