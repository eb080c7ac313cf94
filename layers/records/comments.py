"""Comments (批注) on records: a remark by anyone who may see the record, heard by its parties."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from layers.accounts.roles import Permission
from layers.accounts.scope import Actor
from layers.audit.service import record_audit
from layers.records.messages import send_messages
from layers.records.models import RecordComment
from layers.records.service import read_record, recipients_of
from layers.records.workflow import Party


def add_comment(*, session: Session, record_id: int, body: str, actor: Actor) -> RecordComment:
    """Add a remark to a record the actor may see; audited, its parties are told."""
    actor.require(Permission.RECORDS_READ)
    record = read_record(session=session, record_id=record_id, actor=actor)
    comment = RecordComment(record_id=record.id, actor_id=actor.user_id,
                            actor_name=actor.username, body=body)  # fmt: skip
    session.add(comment)
    session.flush()
    others = [r for r in recipients_of(record, (Party.CREATOR, Party.ASSIGNEE))
              if r != ("user", actor.user_id)]  # fmt: skip
    send_messages(session, record, others, f"{record.kind}.comment")
    record_audit(session, actor=actor, action=f"{record.kind}.comment", target_type=record.kind,
                 target_id=record.id, detail=body[:500])  # fmt: skip
    return comment


def comments_of(session: Session, record_id: int) -> list[RecordComment]:
    """Return a record's comments, oldest first."""
    return list(session.scalars(
        select(RecordComment).where(RecordComment.record_id == record_id)
        .order_by(RecordComment.id)
    ))  # fmt: skip
