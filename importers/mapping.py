"""Map a file's columns to a layer's attributes: explicit, from a saved file, or detected.

``--map "name=单位名称,category='hospital',lon=X坐标"``: a plain value names a source
column, a quoted value is a constant, and ``lon``/``lat``/``wkt``/``external_id`` say
where coordinates and the id come from; ``id`` names the column of feature ids (an
upsert matches a row without an external id by it). Unmapped attributes are matched by
name, by Chinese title (``名称``, ``类别`` ...) or by a shapefile's 10-character truncation,
and a column named by ``--map``/``--id-field`` is found by that truncation too.

A file with both an ``id`` and an ``external_id`` column is laid out as our exports
are: its ``id`` is the feature id (also when ``--id-field id`` names it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from pyproj import CRS

from importers.base import SourceTable
from importers.dbf import DBF_NAME_BYTES
from importers.offset_crs import offset_crs, offset_of_columns
from layers.errors import InvalidInput
from layers.features.registry import LayerSpec

LON_NAMES = ("经度", "lng", "lon", "long", "longitude", "stop_lon", "x", "x坐标", "坐标x")
LAT_NAMES = ("纬度", "lat", "latitude", "stop_lat", "y", "y坐标", "坐标y")
WKT_NAMES = ("wkt", "geometry", "geom", "the_geom", "shape", "几何")
ID_NAMES = ("external_id", "external_i")
FEATURE_ID = "id"
SPECIAL = ("lon", "lat", "wkt", "external_id", FEATURE_ID)


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
    feature_id: str | None = None

    def as_dict(self) -> dict[str, str]:
        """Return the mapping in the form a saved mapping file uses."""
        out = {k: f"'{v.value}'" if isinstance(v, Constant) else v
               for k, v in self.attributes.items()}  # fmt: skip
        special = {"lon": self.lon, "lat": self.lat, "wkt": self.wkt, "external_id": self.id_field,
                   FEATURE_ID: self.feature_id}  # fmt: skip
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


def _short(columns: list[str], name: str | None) -> str | None:
    """Return ``name``, or the column a shapefile holds it as (its first 10 bytes)."""
    if not name or name in columns:
        return name
    short = name.encode()[:DBF_NAME_BYTES].decode(errors="ignore")
    return short if short in columns else name


def _ids(columns: list[str], given: dict[str, str], id_field: str | None,
         suggested: str | None) -> tuple[str | None, str | None]:  # fmt: skip
    """Return the external id column and the feature id column."""
    external = _short(columns, id_field or given.get("external_id")) or suggested
    ours = FEATURE_ID in columns and _find(columns, ID_NAMES) is not None
    feature = _short(columns, given.get(FEATURE_ID)) or (FEATURE_ID if ours else None)
    if external is None or (ours and external == FEATURE_ID):
        external = _find(columns, ID_NAMES)
    return external, feature


def column_crs(mapping: Mapping, table: SourceTable) -> CRS | None:
    """Return GCJ-02 or BD-09 if the coordinate columns say so (``lon_gcj02``), noting it."""
    system = offset_of_columns(mapping.lon, mapping.lat, mapping.wkt)
    if system is None:
        return None
    table.notes.append(f"coordinates in {system.value}: their columns' names say so")
    return offset_crs(system)


def _check_columns(mapping: Mapping, columns: list[str]) -> None:
    used = [v for v in mapping.attributes.values() if isinstance(v, str)]
    used += [v for v in (mapping.lon, mapping.lat, mapping.wkt, mapping.id_field,
                         mapping.feature_id) if v]  # fmt: skip
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
    external, feature = _ids(columns, given, id_field, table.suggested_id)
    attributes = {k: _source(v) for k, v in given.items() if k in known}
    mapping = Mapping(
        attributes={k: _short(columns, v) or v if isinstance(v, str) else v
                    for k, v in attributes.items()},
        lon=_short(columns, given.get("lon")), lat=_short(columns, given.get("lat")),
        wkt=_short(columns, given.get("wkt")), id_field=external, feature_id=feature,
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
            mapping.wkt = _find(columns, WKT_NAMES, ("wkt_",))
        if not mapping.wkt and not (mapping.lon and mapping.lat):
            raise InvalidInput("found no coordinate columns (经度/纬度, lng/lat, lon/lat, x/y) "
                               "and no WKT column; name them with --map lon=...,lat=... or "
                               f"wkt=...; columns: {', '.join(columns)}")  # fmt: skip
    _check_columns(mapping, columns)
    return mapping
