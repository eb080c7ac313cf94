"""TileJSON 3.0 documents describing the vector layers of a tile endpoint."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from layers.accounts.scope import Actor
from layers.features.registry import AttrType, LayerSpec
from layers.features.stats import layer_stats
from tiles.render import aggregates_at
from tiles.sql import BBox

TILEJSON_VERSION = "3.0.0"
_FIELD_TYPES = {AttrType.INTEGER: "Number", AttrType.BOOLEAN: "Boolean"}
# Every feature's open hazards and their highest level (1-4), absent when it has none.
RISK_FIELDS = {"open_hazards": "Number", "hazard_level": "Number"}
# A unit's training (points, not clusters): courses assigned, passed, the next deadline of one
# not passed (YYYY-MM-DD), all absent when nothing is assigned.
TRAINING_FIELDS = {"training_assigned": "Number", "training_passed": "Number",
                   "training_due": "String"}  # fmt: skip


def layer_fields(spec: LayerSpec) -> dict[str, str]:
    """Return the MVT fields of ``spec``: tile attributes, plus cluster summaries if any."""
    fields = {"id": "Number"}
    fields.update({a.name: _FIELD_TYPES.get(a.type, "String") for a in spec.attributes if a.tile})
    fields.update(RISK_FIELDS)
    if spec.id == "units":
        fields.update(TRAINING_FIELDS)
    if aggregates_at(spec, spec.min_zoom):
        fields["count"] = "Number"
        for attribute in spec.attributes:
            if attribute.tile and attribute.type is AttrType.INTEGER:
                fields[f"max_{attribute.name}"] = "Number"
            elif attribute.tile and attribute.type is AttrType.BOOLEAN:
                fields[f"{attribute.name}_count"] = "Number"
        fields["max_hazard_level"] = "Number"
    return fields


def vector_layer(spec: LayerSpec) -> dict[str, Any]:
    """Return the ``vector_layers`` entry of one layer."""
    description = f"{spec.title}; 'open_hazards'/'hazard_level': open hazards, absent if none"
    if spec.id == "units":
        description += "; 'training_assigned'/'_passed'/'_due': training, absent if none assigned"
    if aggregates_at(spec, spec.min_zoom):
        description += (
            f"; below zoom {spec.point_zoom} one point per cluster with 'count', "
            "'open_hazards' (sum) and 'max_hazard_level'"
        )
    return {
        "id": spec.id,
        "description": description,
        "minzoom": spec.min_zoom,
        "maxzoom": spec.max_zoom,
        "fields": layer_fields(spec),
    }


def tilejson(specs: tuple[LayerSpec, ...], tiles_url: str, bounds: BBox | None) -> dict[str, Any]:
    """Return the TileJSON of ``specs`` served at ``tiles_url`` (with ``{z}/{x}/{y}``)."""
    west, south, east, north = bounds or (-180.0, -85.0511, 180.0, 85.0511)
    return {
        "tilejson": TILEJSON_VERSION,
        "name": ",".join(spec.id for spec in specs),
        "description": "、".join(spec.title for spec in specs),
        "scheme": "xyz",
        "tiles": [tiles_url],
        "minzoom": min(spec.min_zoom for spec in specs),
        "maxzoom": max(spec.max_zoom for spec in specs),
        "bounds": [west, south, east, north],
        "center": [(west + east) / 2, (south + north) / 2, max(min(s.min_zoom for s in specs), 10)],
        "vector_layers": [vector_layer(spec) for spec in specs],
    }


def visible_bounds(*, session: Session, specs: tuple[LayerSpec, ...], actor: Actor) -> BBox | None:
    """Return the WGS84 box around what ``actor`` sees of ``specs``, or None if nothing."""
    boxes = [
        stats.extent
        for spec in specs
        if (stats := layer_stats(session=session, spec=spec, actor=actor)).extent is not None
    ]
    if not boxes:
        return None
    return (
        min(b[0] for b in boxes), min(b[1] for b in boxes),
        max(b[2] for b in boxes), max(b[3] for b in boxes),
    )  # fmt: skip
