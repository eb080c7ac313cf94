"""Schemas of the files attached to records."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from layers.records.attachments import RecordAttachment


class AttachmentPublic(BaseModel):
    """A file of a record: what it is, its SM3, the record's state when it came, who added it."""

    id: int
    record_id: int
    name: str
    media_type: str
    size_bytes: int
    sm3: str
    width: int | None
    height: int | None
    record_state: str
    caption: str | None
    uploaded_by: str
    uploaded_at: datetime
    url: str

    @classmethod
    def of(cls, attachment: RecordAttachment) -> AttachmentPublic:
        """Return the public view of a stored attachment."""
        return cls(
            id=attachment.id, record_id=attachment.record_id, name=attachment.name,
            media_type=attachment.media_type, size_bytes=attachment.size_bytes,
            sm3=attachment.sm3, width=attachment.width, height=attachment.height,
            record_state=attachment.record_state, caption=attachment.caption,
            uploaded_by=attachment.uploader_name, uploaded_at=attachment.uploaded_at,
            url=f"/api/attachments/{attachment.id}",
        )  # fmt: skip


class AttachmentsPublic(BaseModel):
    """A record's files, oldest first."""

    data: list[AttachmentPublic]
    count: int
