"""Each user's inbox: notices, tasks handed to them, hazards to fix, steps awaiting them, alerts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from api.access import RECORD_READERS
from api.deps import CurrentActor, LimitDep, SessionDep
from api.routes.alerts import to_public as alert_public
from api.routes.records import to_public
from api.schemas.notices import InboxPublic, MessagePublic
from layers.geofence.alerts import alerts_by_id
from layers.records.catalog import KINDS
from layers.records.messages import Message, inbox, mark_read
from layers.records.models import Record

router = APIRouter(prefix="/api/inbox", tags=["inbox"], dependencies=[Depends(RECORD_READERS)])


def _public(session: Session, page: list[tuple[Message, Record | None]]) -> list[MessagePublic]:
    """Return messages as clients read them, each with its record or its geofence alert."""
    alerts = alerts_by_id(session, {m.alert_id for m, _ in page if m.alert_id is not None})
    return [
        MessagePublic(
            id=m.id, reason=m.reason, created_at=m.created_at, read_at=m.read_at,
            record=to_public(r, KINDS[r.kind]) if r is not None else None,
            alert=alert_public(alerts[m.alert_id]) if m.alert_id is not None else None,
        )
        for m, r in page
    ]  # fmt: skip


@router.get("")
def read_inbox(
    session: SessionDep, actor: CurrentActor, limit: LimitDep, unread: bool = False,
    before: Annotated[int | None, Query(ge=1)] = None, alerts: bool = False,
) -> InboxPublic:  # fmt: skip
    """Return the caller's messages, newest first (``?unread=true``, ``?before=<id>`` pages).

    ``?alerts=true`` brings the geofence alerts of perimeters reaching into the caller's
    jurisdiction (or drawn by the caller) too, each as a message with ``alert`` instead
    of ``record``.
    """
    page, unread_count = inbox(session=session, actor=actor, unread_only=unread, limit=limit,
                               before=before, alerts=alerts)  # fmt: skip
    more = len(page) == limit
    return InboxPublic(data=_public(session, page), unread=unread_count,
                       next=page[-1][0].id if more else None)  # fmt: skip


@router.post("/{message_id}/read")
def read_message(message_id: int, session: SessionDep, actor: CurrentActor) -> MessagePublic:
    """Mark one message read (a notice's read receipt); the first reading is kept."""
    message = mark_read(session=session, actor=actor, message_id=message_id)
    record = session.get(Record, message.record_id) if message.record_id is not None else None
    return _public(session, [(message, record)])[0]
