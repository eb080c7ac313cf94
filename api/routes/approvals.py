"""The approvals waiting for a decision in the caller's jurisdiction (an officer's 待审批)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy import select

from api.access import RECORD_READERS
from api.deps import CurrentActor, LimitDep, SessionDep
from api.routes.records import to_public
from api.schemas.records import RecordsPublic
from layers.records.catalog import KINDS
from layers.records.models import Record
from layers.records.reading import visible_clause

router = APIRouter(tags=["approval"])


@router.get("/api/approvals/pending", dependencies=[Depends(RECORD_READERS)])
def list_pending_approvals(
    session: SessionDep, actor: CurrentActor, limit: LimitDep
) -> RecordsPublic:
    """Return the pending approvals the caller may see, oldest first (what each would change)."""
    kind = KINDS["approval"]
    found = session.scalars(
        select(Record)
        .where(Record.kind == kind.id, Record.state == "pending", visible_clause(actor))
        .order_by(Record.created_at, Record.id)
        .limit(limit)
    ).all()
    return RecordsPublic(data=[to_public(r, kind) for r in found], count=len(found), next=None)
