"""The one door for perimeters: permission, jurisdiction, version, audit, events, versions kept."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import shapely
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import MultiPolygon, mapping
from shapely.geometry.base import BaseGeometry
from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from geo.hexrings import ring_cells
from geo.validate import ensure_multipolygon
from layers.accounts.roles import Permission
from layers.accounts.scope import Actor
from layers.audit.service import append_event, audited_denials, record_audit
from layers.errors import (
    InvalidInput,
    NotFound,
    PermissionDenied,
    PreconditionRequired,
    VersionConflict,
)
from layers.perimeters.access import reaches_scope, visible_clause
from layers.perimeters.active import in_force
from layers.perimeters.models import Perimeter, PerimeterCell, PerimeterRing, PerimeterVersion
from layers.perimeters.rings import (
    RING_ORDER,
    Ring,
    RingDraft,
    RingKind,
    RingLimits,
    build_rings,
    draft_of,
)
from layers.records.activities import ACTIVITY
from layers.records.service import read_record


@dataclass(frozen=True)
class PerimeterDraft:
    """A perimeter as a client gives it (whole, on create and on replace)."""

    name: str
    starts_at: datetime
    ends_at: datetime
    rings: Sequence[RingDraft]
    activity_id: int | None = None


def _unknown(perimeter_id: int) -> NotFound:
    # the same answer for a perimeter elsewhere as for none: ids cannot be enumerated
    return NotFound(f"there is no perimeter {perimeter_id} that you may see")


def rings_of(session: Session, perimeter_id: int) -> list[PerimeterRing]:
    """Return a perimeter's rings, innermost first."""
    rings = session.scalars(select(PerimeterRing).where(PerimeterRing.perimeter_id == perimeter_id))
    return sorted(rings, key=lambda r: RING_ORDER.index(RingKind(r.kind)))


def read_perimeter(*, session: Session, perimeter_id: int, actor: Actor) -> Perimeter:
    """Return a perimeter reaching into the actor's jurisdiction, or raise ``NotFound``."""
    actor.require(Permission.PERIMETERS_READ)
    perimeter = session.scalar(
        select(Perimeter).where(Perimeter.id == perimeter_id, visible_clause(actor.scope))
    )
    if perimeter is None:
        raise _unknown(perimeter_id)
    return perimeter


def list_perimeters(
    *, session: Session, actor: Actor, at: datetime | None = None, limit: int = 100
) -> list[Perimeter]:
    """Return the perimeters the actor sees (in force at ``at``, if given), newest first."""
    actor.require(Permission.PERIMETERS_READ)
    query = select(Perimeter).where(visible_clause(actor.scope))
    if at is not None:
        query = query.where(in_force(at))
    return list(session.scalars(query.order_by(Perimeter.id.desc()).limit(limit)))


def _content(perimeter: Perimeter, rings: Sequence[Ring], *, shapes: bool) -> dict[str, Any]:
    """Return a perimeter's content as JSON: what versions keep (``shapes``) and audits show."""
    return {
        "name": perimeter.name, "activity_id": perimeter.activity_id,
        "starts_at": perimeter.starts_at.isoformat(), "ends_at": perimeter.ends_at.isoformat(),
        "version": perimeter.version,
        "rings": [{"kind": r.kind.value, "drawn": r.drawn, "area_m2": round(r.area_m2, 1),
                   **({"geometry": mapping(r.shape)} if shapes else {})} for r in rings],
    }  # fmt: skip


def _stored_rings(session: Session, perimeter_id: int) -> list[Ring]:
    return [
        Ring(RingKind(r.kind), r.drawn, ensure_multipolygon(to_shape(r.geom)), r.area_m2)
        for r in rings_of(session, perimeter_id)
    ]


def checked_draft(session: Session, draft: PerimeterDraft, actor: Actor,
                  limits: RingLimits) -> tuple[list[Ring], MultiPolygon]:  # fmt: skip
    """Return the rings and extent of a draft, or raise before anything is written."""
    if draft.ends_at <= draft.starts_at:
        raise InvalidInput(f"the window ends ({draft.ends_at.isoformat()}) before it starts "
                           f"({draft.starts_at.isoformat()})")  # fmt: skip
    rings = build_rings(draft.rings, limits)
    extent = ensure_multipolygon(shapely.union_all([r.shape for r in rings]))
    if draft.activity_id is not None:
        read_record(session=session, record_id=draft.activity_id, actor=actor, kind=ACTIVITY)
    if not reaches_scope(session, actor.scope, extent):
        raise PermissionDenied("the perimeter lies wholly outside your jurisdiction")
    return rings, extent


_CELLS = """
INSERT INTO perimeter_cells (perimeter_id, cell, first, whole)
SELECT :perimeter, unnest(CAST(:cells AS bigint[])), unnest(CAST(:first AS smallint[])),
       unnest(CAST(:whole AS smallint[]))
"""


def _store_cells(session: Session, perimeter_id: int, rings: Sequence[Ring]) -> None:
    """Keep the H3 cells of the rings (``geo.hexrings``), by which contents count points."""
    found = ring_cells([r.shape for r in rings])
    session.execute(delete(PerimeterCell).where(PerimeterCell.perimeter_id == perimeter_id))
    session.execute(text(_CELLS), {"perimeter": perimeter_id, "cells": found.cells.tolist(),
                                   "first": found.first.tolist(),
                                   "whole": found.whole.tolist()})  # fmt: skip


def store_draft(session: Session, perimeter: Perimeter, draft: PerimeterDraft,
                rings: list[Ring], extent: MultiPolygon, actor: Actor) -> None:  # fmt: skip
    """Write a draft into ``perimeter``, its rings and a new kept version."""
    perimeter.name, perimeter.activity_id = draft.name, draft.activity_id
    perimeter.starts_at, perimeter.ends_at = draft.starts_at, draft.ends_at
    perimeter.extent = from_shape(extent, srid=4326)
    session.flush()
    session.execute(delete(PerimeterRing).where(PerimeterRing.perimeter_id == perimeter.id))
    session.add_all(
        PerimeterRing(perimeter_id=perimeter.id, kind=r.kind.value, drawn=r.drawn,
                      geom=from_shape(r.shape, srid=4326), area_m2=r.area_m2)
        for r in rings
    )  # fmt: skip
    _store_cells(session, perimeter.id, rings)
    session.add(PerimeterVersion(perimeter_id=perimeter.id, version=perimeter.version,
                                 content=_content(perimeter, rings, shapes=True),
                                 saved_by=actor.user_id, saved_by_name=actor.username))  # fmt: skip
    session.flush()


def _announce(session: Session, actor: Actor, type_: str, perimeter_id: int, version: int,
              *shapes: BaseGeometry) -> None:  # fmt: skip
    bounds = shapely.union_all(shapes).bounds
    append_event(session, type=type_, actor=actor, bounds=bounds,
                 payload={"perimeter_id": perimeter_id, "version": version})  # fmt: skip


def create_perimeter(
    *, session: Session, draft: PerimeterDraft, actor: Actor, limits: RingLimits
) -> Perimeter:
    """Create a perimeter with its rings; audited, its first version kept."""
    with audited_denials(session, actor, "perimeter.create", "perimeter", None):
        actor.require(Permission.PERIMETERS_WRITE)
        rings, extent = checked_draft(session, draft, actor, limits)
    perimeter = Perimeter(created_by=actor.user_id, version=1)
    session.add(perimeter)
    store_draft(session, perimeter, draft, rings, extent, actor)
    after = _content(perimeter, rings, shapes=False)
    record_audit(session, actor=actor, action="perimeter.create", target_type="perimeter",
                 target_id=perimeter.id, after=after)  # fmt: skip
    _announce(session, actor, "perimeter.created", perimeter.id, 1, extent)
    return perimeter


def _lock(session: Session, perimeter_id: int, expected_version: int | None,
          actor: Actor) -> Perimeter:  # fmt: skip
    if expected_version is None:
        raise PreconditionRequired("writes need the version they replace (If-Match header)")
    perimeter = session.scalar(
        select(Perimeter).where(Perimeter.id == perimeter_id, visible_clause(actor.scope))
        .with_for_update()
    )  # fmt: skip
    if perimeter is None:
        raise _unknown(perimeter_id)
    if perimeter.version != expected_version:
        raise VersionConflict(
            f"perimeter {perimeter_id} is at version {perimeter.version}, not "
            f"{expected_version}; reload it and apply your change again",
            current_version=perimeter.version,
        )
    return perimeter


def replace_perimeter(
    *, session: Session, perimeter_id: int, draft: PerimeterDraft,
    expected_version: int | None, actor: Actor, limits: RingLimits,
) -> Perimeter:  # fmt: skip
    """Replace a perimeter at ``expected_version`` with a new version; the old one is kept."""
    with audited_denials(session, actor, "perimeter.update", "perimeter", perimeter_id):
        actor.require(Permission.PERIMETERS_WRITE)
        perimeter = _lock(session, perimeter_id, expected_version, actor)
        rings, extent = checked_draft(session, draft, actor, limits)
    old_rings, old_extent = _stored_rings(session, perimeter_id), to_shape(perimeter.extent)
    before = _content(perimeter, old_rings, shapes=False)
    perimeter.version += 1
    perimeter.updated_at = datetime.now(UTC)
    store_draft(session, perimeter, draft, rings, extent, actor)
    record_audit(session, actor=actor, action="perimeter.update", target_type="perimeter",
                 target_id=perimeter.id, before=before,
                 after=_content(perimeter, rings, shapes=False))  # fmt: skip
    _announce(session, actor, "perimeter.updated", perimeter.id, perimeter.version,
              old_extent, extent)  # fmt: skip
    return perimeter


def add_ring(
    *, session: Session, perimeter_id: int, ring: RingDraft, expected_version: int | None,
    actor: Actor, limits: RingLimits,
) -> Perimeter:  # fmt: skip
    """Add a ring to a perimeter (replacing its ring of the same kind) as a new version.

    The other rings are drawn again as they were drawn, so a ring given as a distance
    around the core follows a new core.
    """
    perimeter = read_perimeter(session=session, perimeter_id=perimeter_id, actor=actor)
    kept = [draft_of(r.kind, r.drawn) for r in rings_of(session, perimeter_id)
            if r.kind != ring.kind.value]  # fmt: skip
    draft = PerimeterDraft(name=perimeter.name, starts_at=perimeter.starts_at,
                           ends_at=perimeter.ends_at, rings=[*kept, ring],
                           activity_id=perimeter.activity_id)  # fmt: skip
    return replace_perimeter(session=session, perimeter_id=perimeter_id, draft=draft,
                             expected_version=expected_version, actor=actor,
                             limits=limits)  # fmt: skip


def delete_perimeter(
    *, session: Session, perimeter_id: int, expected_version: int | None, actor: Actor
) -> None:
    """Delete a perimeter at ``expected_version``; the audit log keeps its last content."""
    with audited_denials(session, actor, "perimeter.delete", "perimeter", perimeter_id):
        actor.require(Permission.PERIMETERS_WRITE)
        perimeter = _lock(session, perimeter_id, expected_version, actor)
    before = _content(perimeter, _stored_rings(session, perimeter_id), shapes=False)
    extent = to_shape(perimeter.extent)
    session.delete(perimeter)
    session.flush()
    record_audit(session, actor=actor, action="perimeter.delete", target_type="perimeter",
                 target_id=perimeter_id, before=before)  # fmt: skip
    _announce(session, actor, "perimeter.deleted", perimeter_id, before["version"], extent)


def list_versions(*, session: Session, perimeter_id: int, actor: Actor) -> list[PerimeterVersion]:
    """Return every kept version of a perimeter the actor sees, oldest first."""
    read_perimeter(session=session, perimeter_id=perimeter_id, actor=actor)
    return list(session.scalars(
        select(PerimeterVersion).where(PerimeterVersion.perimeter_id == perimeter_id)
        .order_by(PerimeterVersion.version)
    ))  # fmt: skip


def read_version(
    *, session: Session, perimeter_id: int, version: int, actor: Actor
) -> PerimeterVersion:
    """Return one kept version of a perimeter the actor sees, or raise ``NotFound``."""
    read_perimeter(session=session, perimeter_id=perimeter_id, actor=actor)
    kept = session.get(PerimeterVersion, (perimeter_id, version))
    if kept is None:
        raise NotFound(f"perimeter {perimeter_id} has no version {version}")
    return kept
