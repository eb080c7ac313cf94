"""What an unsaved perimeter's rings would hold: the contents of a drawing still in progress.

The planner's page asks while a ring is drawn or a vertex dragged. The draft is checked
as a save checks it, then written inside a savepoint (its rings and H3 cells, as a save
writes them), counted by the very code that counts a saved perimeter, and the savepoint
rolled back: the answer is the one saving would give, and nothing stays. The rows take
the id ``-pg_backend_pid()``: one connection runs one preview at a time, so two never
meet, and no id is drawn from the sequence (saved perimeters keep dense ids). No audit,
no event: nothing was written.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geo.crs import CoordSystem
from layers.accounts.roles import Permission
from layers.accounts.scope import Actor
from layers.perimeters.contents import RingContent, perimeter_contents
from layers.perimeters.models import Perimeter
from layers.perimeters.rings import Ring, RingLimits
from layers.perimeters.service import PerimeterDraft, checked_draft, store_draft

__all__ = ["preview_contents"]


def preview_contents(
    *, session: Session, draft: PerimeterDraft, actor: Actor, limits: RingLimits,
    layers: Sequence[str] = (), page_size: int, zone: Any,
    crs: CoordSystem = CoordSystem.WGS84,
) -> tuple[list[Ring], list[RingContent]]:  # fmt: skip
    """Return a draft's checked rings and, per ring and layer, what the actor would see there.

    Raises what saving the draft would raise (``InvalidInput``, ``PermissionDenied``).
    """
    actor.require(Permission.PERIMETERS_READ)
    rings, extent = checked_draft(session, draft, actor, limits)
    with session.begin_nested() as savepoint:
        perimeter = Perimeter(id=session.scalar(select(-func.pg_backend_pid())),
                              created_by=actor.user_id, version=0)  # fmt: skip
        session.add(perimeter)
        store_draft(session, perimeter, draft, rings, extent, actor)
        _, contents = perimeter_contents(
            session=session, perimeter_id=perimeter.id, actor=actor, layers=layers,
            page_size=page_size, zone=zone, crs=crs,
        )  # fmt: skip
        savepoint.rollback()
    return rings, contents
