"""Send notices to units and officers, and read their receipts."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from api.access import RECORD_READERS, creators_of
from api.deps import CurrentActor, SessionDep
from api.routes.records import created
from api.schemas.notices import NoticeCreate, ReceiptsPublic
from api.schemas.records import RecordPublic
from layers.accounts.roles import Role
from layers.errors import PermissionDenied
from layers.records.catalog import KINDS
from layers.records.notices import NOTICE, receipts_of, send_notice
from layers.records.service import parties_of, read_record
from layers.records.workflow import Party

NOTICE_SENDERS = creators_of(KINDS["notice"])
router = APIRouter(prefix="/api/notices", tags=["notice"])


@router.post("", dependencies=[Depends(NOTICE_SENDERS)], status_code=201)
def create_notice(
    body: NoticeCreate, session: SessionDep, actor: CurrentActor, response: Response
) -> RecordPublic:
    """Send a notice to users, units, or every unit a spatial/attribute selection finds."""
    record, _ = send_notice(session=session, notice=body.to_domain(), actor=actor)
    return created(session, record, actor, response, router.prefix)


@router.get("/{record_id}/receipts", dependencies=[Depends(RECORD_READERS)])
def read_notice_receipts(
    record_id: int, session: SessionDep, actor: CurrentActor
) -> ReceiptsPublic:
    """Return how many recipients a notice reached and how many have read it (its sender)."""
    record = read_record(session=session, record_id=record_id, actor=actor, kind=NOTICE)
    if Party.CREATOR not in parties_of(record, actor) and actor.role is not Role.COMMANDER:
        raise PermissionDenied("only the sender or a commander reads a notice's receipts")
    receipts = receipts_of(session, record.id)
    return ReceiptsPublic(sent=receipts.sent, read=receipts.read)
