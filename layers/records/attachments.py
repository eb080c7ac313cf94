"""Files attached to records (附件): photos and documents kept in PostgreSQL with their SM3.

Any record kind holds files: a hazard's photos, its rectification photos, an inspection's
scans, a clue's evidence. The bytes live in ``attachment_contents`` (bytea, stored out
of line uncompressed: photos and PDFs are compressed already), beside the metadata in
``record_attachments``, so a backup carries them and nothing lives outside the database.
Each file remembers the record's state when it came (a hazard's ``rectifying`` photos
are its rectification photos). Whoever may read a record reads its files; its parties
(creator, assignees) and the roles handling its kind add them; the one who added a file,
or a handling role, removes it while the record is open. Each addition or removal is a
write of the record: locked, a new version, audited, an event, its parties told.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from layers.accounts.roles import Permission, Role
from layers.accounts.scope import Actor
from layers.audit.service import audited_denials, record_audit
from layers.base import Base
from layers.errors import (
    Conflict,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    PreconditionRequired,
    VersionConflict,
)
from layers.records.catalog import get_kind
from layers.records.content import inspect_content
from layers.records.kinds import RecordKind
from layers.records.messages import send_messages
from layers.records.models import Record
from layers.records.service import parties_of, read_record, recipients_of, record_event
from layers.records.workflow import Party
from layers.settings import LimitSettings
from layers.values import storable_text


class RecordAttachment(Base):
    """A file attached to a record: name, checked type, size, SM3, who added it and when."""

    __tablename__ = "record_attachments"
    # one file per content and record: a retried upload finds the file it already sent
    __table_args__ = (UniqueConstraint("record_id", "sm3"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    record_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("records.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sm3: Mapped[str] = mapped_column(String(64))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    record_state: Mapped[str] = mapped_column(String(32))
    caption: Mapped[str | None] = mapped_column(String(500))
    uploaded_by: Mapped[int | None] = mapped_column(BigInteger)
    uploader_name: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class AttachmentContent(Base):
    """The bytes of one attachment, apart so that listing files never reads them."""

    __tablename__ = "attachment_contents"

    attachment_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("record_attachments.id", ondelete="CASCADE"), primary_key=True
    )
    content: Mapped[bytes] = mapped_column(LargeBinary)


@dataclass(frozen=True)
class Upload:
    """A file as a client sent it: its bytes, and what the client says it is."""

    content: bytes
    name: str | None = None
    declared_type: str | None = None
    caption: str | None = None


def _handlers(kind: RecordKind) -> frozenset[Role]:
    """Return the roles that take steps of ``kind``: they handle its records' files."""
    return frozenset(role for step in kind.workflow.steps for role in step.roles)


def _unknown(attachment_id: int) -> NotFound:
    return NotFound(f"there is no attachment {attachment_id}")


def _snapshot(attachment: RecordAttachment, record: Record) -> dict[str, Any]:
    return {"attachment_id": attachment.id, "name": attachment.name,
            "media_type": attachment.media_type, "size_bytes": attachment.size_bytes,
            "sm3": attachment.sm3, "record_version": record.version}  # fmt: skip


def _lock(session: Session, record: Record, expected_version: int | None) -> None:
    """Lock ``record`` for this write; raise ``VersionConflict`` if it is not at the version."""
    session.refresh(record, with_for_update=True)
    if expected_version is not None and record.version != expected_version:
        raise VersionConflict(
            f"record {record.id} is at version {record.version}, not {expected_version}; "
            "reload it and try again",
            current_version=record.version,
        )


def _written(
    session: Session, record: Record, kind: RecordKind, actor: Actor, action: str,
    attachment: RecordAttachment, *, removed: bool,
) -> None:  # fmt: skip
    """Make the change a new version of the record: audited, an event, its parties told."""
    before = _snapshot(attachment, record) if removed else None
    record.version += 1
    record.updated_at = datetime.now(UTC)
    session.flush()
    after = None if removed else _snapshot(attachment, record)
    others = [r for r in recipients_of(record, (Party.CREATOR, Party.ASSIGNEE))
              if r != ("user", actor.user_id)]  # fmt: skip
    send_messages(session, record, others, f"{kind.id}.{action}")
    record_audit(session, actor=actor, action=f"{kind.id}.{action}", target_type=kind.id,
                 target_id=record.id, detail=attachment.name, before=before,
                 after=after)  # fmt: skip
    record_event(session, record, actor, "record.updated")


def add_attachment(
    *, session: Session, record_id: int, upload: Upload, actor: Actor, limits: LimitSettings,
    expected_version: int | None = None,
) -> tuple[RecordAttachment, bool]:  # fmt: skip
    """Attach a checked file to a record the actor may write; return it and whether it is new.

    The same bytes sent again to the same record return the file already there.
    """
    with audited_denials(session, actor, "record.attach", "record", record_id):
        actor.require(Permission.RECORDS_WRITE)
        record = read_record(session=session, record_id=record_id, actor=actor)
        kind = get_kind(record.kind)
        if actor.role not in _handlers(kind) and not parties_of(record, actor):
            raise PermissionDenied(f"you may read this {kind.id} but not add files to it")
    if len(upload.content) > limits.attachment_bytes:
        raise PayloadTooLarge(
            f"the file has {len(upload.content):,} bytes, more than the "
            f"{limits.attachment_bytes:,} taken (WARROOM_LIMITS_ATTACHMENT_BYTES)"
        )
    checked = inspect_content(upload.content, upload.name, upload.declared_type,
                              max_pixels=limits.attachment_pixels)  # fmt: skip
    caption = storable_text(upload.caption, "the caption") if upload.caption else None
    digest = hashlib.new("sm3", upload.content).hexdigest()
    _lock(session, record, expected_version)
    mine = select(RecordAttachment).where(RecordAttachment.record_id == record.id)
    existing = session.scalar(mine.where(RecordAttachment.sm3 == digest))
    if existing is not None:
        return existing, False
    held = session.scalar(select(func.count()).select_from(mine.subquery())) or 0
    if held >= limits.attachments_per_record:
        raise Conflict(f"record {record.id} holds {held} files, the most one may "
                       "(WARROOM_LIMITS_ATTACHMENTS_PER_RECORD); remove one first")  # fmt: skip
    attachment = RecordAttachment(
        record_id=record.id, name=checked.name, media_type=checked.kind.media_type,
        size_bytes=len(upload.content), sm3=digest, width=checked.width, height=checked.height,
        record_state=record.state, caption=caption, uploaded_by=actor.user_id,
        uploader_name=actor.username,
    )  # fmt: skip
    session.add(attachment)
    session.flush()
    session.add(AttachmentContent(attachment_id=attachment.id, content=upload.content))
    _written(session, record, kind, actor, "attach", attachment, removed=False)
    return attachment, True


def attachments_of(session: Session, record_id: int) -> list[RecordAttachment]:
    """Return a record's files, oldest first (their metadata; the bytes stay behind)."""
    return list(session.scalars(
        select(RecordAttachment).where(RecordAttachment.record_id == record_id)
        .order_by(RecordAttachment.id)
    ))  # fmt: skip


def list_attachments(*, session: Session, record_id: int, actor: Actor) -> list[RecordAttachment]:
    """Return the files of a record the actor may see, oldest first."""
    return attachments_of(session, read_record(session=session, record_id=record_id,
                                               actor=actor).id)  # fmt: skip


def _visible_attachment(session: Session, attachment_id: int, actor: Actor) -> RecordAttachment:
    """Return an attachment of a record the actor may see; elsewhere it is unknown (404)."""
    attachment = session.get(RecordAttachment, attachment_id)
    if attachment is None:
        raise _unknown(attachment_id)
    try:
        read_record(session=session, record_id=attachment.record_id, actor=actor)
    except NotFound:
        raise _unknown(attachment_id) from None
    return attachment


def read_attachment(
    *, session: Session, attachment_id: int, actor: Actor
) -> tuple[RecordAttachment, bytes]:
    """Return an attachment of a record the actor may see, with its bytes."""
    attachment = _visible_attachment(session, attachment_id, actor)
    content = session.get_one(AttachmentContent, attachment.id)
    return attachment, content.content


def delete_attachment(
    *, session: Session, attachment_id: int, expected_version: int | None, actor: Actor
) -> Record:
    """Remove a file from an open record at its version (If-Match); return the record.

    The one who added the file may remove it, and so may the roles handling the kind.
    """
    with audited_denials(session, actor, "record.detach", "attachment", attachment_id):
        actor.require(Permission.RECORDS_WRITE)
        attachment = _visible_attachment(session, attachment_id, actor)
        record = session.get_one(Record, attachment.record_id)
        kind = get_kind(record.kind)
        if attachment.uploaded_by != actor.user_id and actor.role not in _handlers(kind):
            raise PermissionDenied(f"only who added a file, or an officer handling the "
                                   f"{kind.id}, may remove it")  # fmt: skip
    if expected_version is None:
        raise PreconditionRequired("removing a file needs the record's version it changes "
                                   "(If-Match header)")  # fmt: skip
    _lock(session, record, expected_version)
    if record.state in kind.workflow.closed:
        raise Conflict(f"the {kind.id} is {record.state}: a closed record keeps its files")
    _written(session, record, kind, actor, "detach", attachment, removed=True)
    session.delete(attachment)
    session.flush()
    return record
