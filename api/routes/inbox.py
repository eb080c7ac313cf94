"""Each user's inbox: notices, tasks handed to them, hazards to fix, steps awaiting them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.access import RECORD_READERS
from api.deps import CurrentActor, LimitDep, SessionDep
from api.routes.records import to_public
from api.schemas.notices import InboxPublic, MessagePublic
from layers.records.catalog import KINDS
from layers.records.messages import inbox, mark_read
from layers.records.models import Record

router = APIRouter(prefix="/api/inbox", tags=["inbox"], dependencies=[Depends(RECORD_READERS)])


@router.get("")
def read_inbox(
    session: SessionDep, actor: CurrentActor, limit: LimitDep, unread: bool = False,
    before: Annotated[int | None, Query(ge=1)] = None,
) -> InboxPublic:  # fmt: skip
    """Return the caller's messages, newest first (``?unread=true``, ``?before=<id>`` pages)."""
    page, unread_count = inbox(session=session, actor=actor, unread_only=unread, limit=limit,
                               before=before)  # fmt: skip
    data = [
        MessagePublic(id=m.id, reason=m.reason, created_at=m.created_at, read_at=m.read_at,
                      record=to_public(r, KINDS[r.kind]))
        for m, r in page
    ]  # fmt: skip
    more = len(page) == limit
    return InboxPublic(data=data, unread=unread_count, next=page[-1][0].id if more else None)


@router.post("/{message_id}/read")
def read_message(message_id: int, session: SessionDep, actor: CurrentActor) -> MessagePublic:
    """Mark one message read (a notice's read receipt); the first reading is kept."""
    message = mark_read(session=session, actor=actor, message_id=message_id)
    record = session.get_one(Record, message.record_id)
    return MessagePublic(
        id=message.id, reason=message.reason, created_at=message.created_at,
        read_at=message.read_at, record=to_public(record, KINDS[record.kind]),
    )  # fmt: skip
