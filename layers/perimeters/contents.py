"""What each ring of a perimeter holds: counts, groupings and the first page, per layer.

Each ring is an annulus: a feature is counted in the innermost ring holding it.
``layers.perimeters.counting`` says how each layer's rows are numbered by ring and
counted; here the counts are gathered per ring and group, and each ring's first
features by id are read as GeoJSON.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geo.crs import CoordSystem
from layers.accounts.scope import Actor
from layers.errors import InvalidInput
from layers.features.query import FeatureRow, plain_plans
from layers.perimeters.counting import counting, ringed
from layers.perimeters.models import Perimeter
from layers.perimeters.rings import RING_ORDER, RING_TITLES, RingKind
from layers.perimeters.service import read_perimeter, rings_of
from layers.perimeters.sources import Source, Window, check_layers, rows_of, source


@dataclass
class LayerContent:
    """One layer within one ring: how many, counts by group, and the first features by id."""

    layer: str
    title: str
    count: int = 0
    groups: dict[str, dict[str, int]] = field(default_factory=dict)
    features: list[FeatureRow] = field(default_factory=list)


@dataclass
class RingContent:
    """One ring (an annulus inside the next): its kind, area and layers."""

    kind: RingKind
    title: str
    area_m2: float
    layers: dict[str, LayerContent]


def _gathered(src: Source, kinds: Sequence[str], rows: Sequence[Any], page_size: int
              ) -> tuple[list[LayerContent], dict[int, list[int]]]:  # fmt: skip
    """Return a layer's contents per ring from its counted rows, and each ring's page of ids."""
    found = [LayerContent(src.id, src.title) for _ in kinds]
    first: dict[int, list[int]] = defaultdict(list)
    for row in rows:
        if row.ring is None:  # near the rings, in none of them
            continue
        if row.first is not None:
            first[row.ring] += row.first
        if not row.n:  # first ids only
            continue
        content = found[row.ring]
        content.count += row.n
        for group in src.groups:
            counts = content.groups.setdefault(group.key, {})
            value = str(row._mapping[group.key])
            counts[value] = counts.get(value, 0) + row.n
    return found, {ring: sorted(ids)[:page_size] for ring, ids in first.items()}


def perimeter_contents(
    *, session: Session, perimeter_id: int, actor: Actor, layers: Sequence[str] = (),
    page_size: int, zone: Any, crs: CoordSystem = CoordSystem.WGS84,
) -> tuple[Perimeter, list[RingContent]]:  # fmt: skip
    """Return a perimeter and, per ring and layer, what the actor sees there in its window."""
    perimeter = read_perimeter(session=session, perimeter_id=perimeter_id, actor=actor)
    rings = rings_of(session, perimeter_id)
    kinds = [r.kind for r in rings]
    window = Window(perimeter.starts_at, perimeter.ends_at, zone)
    plain_plans(session)
    # The first ids of each ring and group come from sorting its edge units: in memory,
    # not in files (the default 4 MB spills them). Each cell is read once, so remembering
    # a cell's rows (Memoize) only copies them (+25 % CPU). The cells wholly inside a ring
    # are estimated at 1/200 of a perimeter's (they are ~80 %), so the planner sorted the
    # rollup's ~22,000 rows to group them where hashing takes 60 % of the time.
    session.execute(select(func.set_config("work_mem", "32MB", True),
                           func.set_config("enable_memoize", "off", True),
                           func.set_config("enable_sort", "off", True)))  # fmt: skip
    contents = [RingContent(RingKind(r.kind), RING_TITLES[RingKind(r.kind)], r.area_m2, {})
                for r in rings]  # fmt: skip
    # what the statements depend on: not where the request came from (kept apart per user)
    reader = replace(actor, client=None)
    statements = counting(check_layers(layers), reader, window, tuple(kinds), page_size)
    by_layer: dict[int, list[Any]] = defaultdict(list)
    for row in session.connection().execute(statements.statement, {"perimeter_id": perimeter_id}):
        by_layer[row.layer].append(row)
    for index, src in enumerate(statements.sources):
        found, pages = _gathered(src, kinds, by_layer[index], page_size)
        shown = rows_of(session, actor, src.id, [i for ids in pages.values() for i in ids], crs)
        ring_of = {i: ring for ring, ids in pages.items() for i in ids}
        for feature in shown:
            found[ring_of[feature.id]].features.append(feature)
        for ring, content in zip(contents, found, strict=True):
            ring.layers[src.id] = content
    return perimeter, contents


def _ids_in_rings(
    session: Session, actor: Actor, perimeter_id: int, layer_id: str, zone: Any,
    rings: Sequence[RingKind], limit: int,
) -> dict[RingKind, list[int]]:  # fmt: skip
    """Return up to ``limit + 1`` ids of a layer in ``rings`` (all when none), by ring and id."""
    perimeter = read_perimeter(session=session, perimeter_id=perimeter_id, actor=actor)
    kinds = [r.kind for r in rings_of(session, perimeter_id)]
    wanted = {k.value for k in rings} or set(kinds)
    missing = wanted - set(kinds)
    if missing:
        raise InvalidInput(f"perimeter {perimeter_id} has no ring {', '.join(sorted(missing))}")
    window = Window(perimeter.starts_at, perimeter.ends_at, zone)
    picked = [i for i, k in enumerate(kinds) if k in wanted]
    plain_plans(session)
    found = sorted(
        (ring, ident)
        for rows in ringed(source(layer_id, actor, window), perimeter_id, kinds)
        for ring, ident in session.connection().execute(
            select(rows.c.ring, rows.c.id).where(rows.c.ring.in_(picked)).limit(limit + 1)
        )
    )[: limit + 1]  # fmt: skip
    by_ring: dict[RingKind, list[int]] = {RingKind(kinds[i]): [] for i in picked}
    for ring, ident in found:
        by_ring[RingKind(kinds[ring])].append(ident)
    return by_ring


def ring_ids(
    *, session: Session, perimeter_id: int, actor: Actor, layer_id: str, zone: Any,
    rings: Sequence[RingKind] = (), limit: int,
) -> dict[RingKind, list[int]]:  # fmt: skip
    """Return the ids of a layer's features (or records) in each of ``rings`` (all when none).

    Raises ``InvalidInput`` when there are more than ``limit`` in all.
    """
    layer_id = check_layers([layer_id])[0]
    by_ring = _ids_in_rings(session, actor, perimeter_id, layer_id, zone, rings, limit)
    if sum(map(len, by_ring.values())) > limit:
        raise InvalidInput(f"the rings hold more than {limit:,} of layer {layer_id!r}; "
                           "choose fewer rings")  # fmt: skip
    return by_ring


@dataclass(frozen=True)
class ContentRow:
    """One feature (or record) of the contents, with its ring and layer."""

    ring: RingKind
    layer: str
    feature: FeatureRow


def content_rows(
    *, session: Session, perimeter_id: int, actor: Actor, layers: Sequence[str] = (),
    zone: Any, limit: int,
) -> list[ContentRow]:  # fmt: skip
    """Return every feature of the contents the actor sees, by ring, layer and id (to export).

    Raises ``InvalidInput`` when there are more than ``limit`` in all.
    """
    found: list[ContentRow] = []
    for layer_id in check_layers(layers):
        by_ring = _ids_in_rings(session, actor, perimeter_id, layer_id, zone, (),
                                limit - len(found))  # fmt: skip
        ring_of = {i: ring for ring, ids in by_ring.items() for i in ids}
        if len(found) + len(ring_of) > limit:
            raise InvalidInput(f"the contents hold more than {limit:,} features to export; "
                               "export fewer layers")  # fmt: skip
        rows = rows_of(session, actor, layer_id, list(ring_of), CoordSystem.WGS84)
        found += sorted((ContentRow(ring_of[r.id], layer_id, r) for r in rows),
                        key=lambda c: (RING_ORDER.index(c.ring), c.feature.id))  # fmt: skip
    return found
