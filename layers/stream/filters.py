"""What a client asks of the event log: types (or families of them), layers and a box."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, or_, true

from layers.audit.models import Event
from layers.errors import InvalidInput
from layers.features.filters import BBox
from layers.features.registry import REGISTRY

MAX_NAMES = 50
# "record" is a family (every record.* event), "record.created" one type.
_TYPE = re.compile(r"[a-z][a-z0-9_]{0,30}(\.[a-z][a-z0-9_]{0,30})?")


@dataclass(frozen=True)
class EventFilter:
    """Keep events of these types or families, of these layers, touching this box.

    Every filter given must match: an event without a layer (a record's) never matches
    ``layers``, one without a box never matches ``bbox``. Empty means no filter.
    """

    types: frozenset[str] = frozenset()
    layers: frozenset[str] = frozenset()
    bbox: BBox | None = None

    def clause(self) -> ColumnElement[bool]:
        """Return the SQL condition keeping the events this filter asks for."""
        parts: list[ColumnElement[bool]] = []
        if self.types:
            exact = sorted(t for t in self.types if "." in t)
            families = sorted(t for t in self.types if "." not in t)
            parts.append(or_(Event.type.in_(exact), event_family().in_(families)))
        if self.layers:
            parts.append(Event.layer.in_(sorted(self.layers)))
        if self.bbox is not None:
            parts.append(Event.bbox.ST_Intersects(func.ST_MakeEnvelope(*self.bbox, 4326)))
        return and_(true(), *parts)


def event_family() -> ColumnElement[str]:
    """Return an event's family: what comes before the dot of its type (``record``)."""
    return func.split_part(Event.type, ".", 1)


def _names(text: str | None, what: str) -> list[str]:
    names = [part.strip() for part in (text or "").split(",") if part.strip()]
    if len(names) > MAX_NAMES:
        raise InvalidInput(f"{what} lists {len(names)} names; {MAX_NAMES} at most")
    return names


def parse_types(text: str | None) -> frozenset[str]:
    """Return the event types and families of a comma-separated list, or raise 422."""
    names = _names(text, "types")
    for name in names:
        if not _TYPE.fullmatch(name):
            raise InvalidInput(
                f"types: {name[:40]!r} is neither an event type such as 'record.created' "
                "nor a family such as 'record'"
            )
    return frozenset(names)


def parse_layers(text: str | None) -> frozenset[str]:
    """Return the layer ids of a comma-separated list, or raise 422 naming the known ones."""
    names = _names(text, "layers")
    unknown = [name for name in names if name not in REGISTRY]
    if unknown:
        raise InvalidInput(
            f"layers: unknown layer {unknown[0][:40]!r}; known layers: {', '.join(REGISTRY)}"
        )
    return frozenset(names)
