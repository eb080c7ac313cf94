"""Unified messages (统一消息服务): one inbox per user, fed by the records that concern them.

A message goes to a user, or to a unit (every user of that unit reads it); each knows
when it was first read and by whom — a notice's read receipts are its messages. A
message brings a record, or a geofence alert (``alert_id``, sent by ``layers.geofence``
to the people the alert concerns).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ColumnElement,
    DateTime,
    ForeignKey,
    Index,
    String,
    and_,
    func,
    insert,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from layers.accounts.roles import Permission
from layers.accounts.scope import Actor, ScopeKind
from layers.base import Base
from layers.errors import NotFound
from layers.records.models import Record

RecipientType = Literal["user", "unit"]
Recipient = tuple[RecipientType, int]


class Message(Base):
    """One record brought to one recipient's attention, and when it was read."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_recipient", "recipient_type", "recipient_id", "id"),
        Index("ix_messages_record_id", "record_id"),
        Index("ix_messages_alert_id", "alert_id", postgresql_where=text("alert_id IS NOT NULL")),
        CheckConstraint("(record_id IS NULL) <> (alert_id IS NULL)", name="one_subject"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    recipient_type: Mapped[str] = mapped_column(String(8))
    recipient_id: Mapped[int] = mapped_column(BigInteger)
    record_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("records.id", ondelete="CASCADE")
    )
    alert_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("geofence_alerts.id", ondelete="CASCADE")
    )
    reason: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    read_by: Mapped[int | None] = mapped_column(BigInteger)


def send_messages(
    session: Session, record: Record, recipients: Iterable[Recipient], reason: str
) -> int:
    """Put ``record`` in each recipient's inbox (once each); return how many were sent."""
    rows = [
        {"recipient_type": kind, "recipient_id": rid, "record_id": record.id, "reason": reason}
        for kind, rid in dict.fromkeys(recipients)
    ]
    if rows:
        session.execute(insert(Message), rows)
    return len(rows)


def send_messages_bulk(
    session: Session, record_ids: Sequence[int], recipients: Sequence[Recipient], reason: str
) -> None:
    """Put each of ``record_ids`` in each recipient's inbox, in one statement."""
    types, ids = zip(*dict.fromkeys(recipients), strict=True)
    params = {"types": list(types), "ids": list(ids), "records": list(record_ids), "reason": reason}
    session.execute(text(
        "INSERT INTO messages (recipient_type, recipient_id, record_id, reason) "
        "SELECT r.type, r.id, m.id, :reason "
        "FROM unnest(CAST(:types AS text[]), CAST(:ids AS bigint[])) AS r(type, id) "
        "CROSS JOIN unnest(CAST(:records AS bigint[])) AS m(id)"
    ), params)  # fmt: skip


def addressed_to(actor: Actor) -> ColumnElement[bool]:
    """Return the SQL condition "the message is for ``actor``" (them, or their unit)."""
    mine = and_(Message.recipient_type == "user", Message.recipient_id == actor.user_id)
    if actor.scope.kind is ScopeKind.UNIT:
        ours = and_(Message.recipient_type == "unit", Message.recipient_id == actor.scope.id)
        return or_(mine, ours)
    return mine


def inbox(
    *, session: Session, actor: Actor, unread_only: bool, limit: int, before: int | None = None,
    alerts: bool = False,
) -> tuple[list[tuple[Message, Record | None]], int]:  # fmt: skip
    """Return a page of the actor's messages (newest first) with their records, and the unread.

    Messages of geofence alerts (no record) come too, and count as unread, with ``alerts``.
    """
    actor.require(Permission.RECORDS_READ)
    mine = addressed_to(actor) if alerts else and_(addressed_to(actor), Message.alert_id.is_(None))
    query = (
        select(Message, Record).outerjoin(Record, Record.id == Message.record_id)
        .where(mine).order_by(Message.id.desc()).limit(limit)
    )  # fmt: skip
    if unread_only:
        query = query.where(Message.read_at.is_(None))
    if before is not None:
        query = query.where(Message.id < before)
    unread = session.scalar(
        select(func.count()).select_from(Message).where(mine, Message.read_at.is_(None))
    )
    return [(m, r) for m, r in session.execute(query)], int(unread or 0)


def mark_read(*, session: Session, actor: Actor, message_id: int) -> Message:
    """Mark one of the actor's messages read (the first reading is kept), or raise 404."""
    actor.require(Permission.RECORDS_READ)
    message = session.scalar(
        select(Message).where(Message.id == message_id, addressed_to(actor)).with_for_update()
    )
    if message is None:
        raise NotFound(f"there is no message {message_id} for you")
    if message.read_at is None:
        message.read_at = datetime.now(UTC)
        message.read_by = actor.user_id
    return message
