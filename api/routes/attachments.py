"""Files attached to records: upload (checked by content), list, download, remove."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Header, Response, UploadFile

from api.access import RECORD_READERS, RECORD_WRITERS
from api.deps import CurrentActor, SessionDep, SettingsDep, if_match_version
from api.routes.records import to_full
from api.schemas.attachments import AttachmentPublic, AttachmentsPublic
from api.schemas.records import RecordPublic
from layers.records.attachments import (
    RecordAttachment,
    Upload,
    add_attachment,
    delete_attachment,
    list_attachments,
    read_attachment,
)
from layers.records.content import FILE_KINDS
from layers.records.service import read_record

router = APIRouter(tags=["attachments"])

# A downloaded file is data, never a page: no script, no plug-in, nothing it may load.
_SANDBOX = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
_TYPES: dict[str, dict[str, str]] = {kind.media_type: {} for kind in FILE_KINDS}
IfMatch = Annotated[str | None, Header(max_length=40)]


def content_disposition(name: str, *, inline: bool) -> str:
    """Return a Content-Disposition naming ``name``: an ASCII fallback and RFC 5987 UTF-8."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_"
                       for c in name)  # fmt: skip
    return (f"{'inline' if inline else 'attachment'}; filename=\"{fallback}\"; "
            f"filename*=UTF-8''{quote(name, safe='')}")  # fmt: skip


def _file_headers(attachment: RecordAttachment) -> dict[str, str]:
    # images show in the browser; a PDF is saved, never rendered in our origin
    inline = attachment.media_type.startswith("image/")
    return {
        "Content-Disposition": content_disposition(attachment.name, inline=inline),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": _SANDBOX,
        "Cache-Control": "private, no-store",
    }


@router.post(
    "/api/records/{record_id}/attachments",
    dependencies=[Depends(RECORD_WRITERS)],
    status_code=201,
    responses={200: {"description": "the same file was attached to the record already"}},
)
def create_attachment(
    record_id: int,
    file: Annotated[UploadFile, File(description="JPEG, PNG, WebP or PDF, told by its bytes")],
    session: SessionDep,
    actor: CurrentActor,
    settings: SettingsDep,
    response: Response,
    caption: Annotated[str | None, Form(max_length=500)] = None,
    if_match: IfMatch = None,
) -> RecordPublic:
    """Attach a file to a record; answer the record (ETag) and the file's URL (Location)."""
    limit = settings.limits.attachment_bytes
    upload = Upload(content=file.file.read(limit + 1), name=file.filename,
                    declared_type=file.content_type, caption=caption)  # fmt: skip
    attachment, new = add_attachment(
        session=session, record_id=record_id, upload=upload, actor=actor,
        limits=settings.limits, expected_version=if_match_version(if_match),
    )  # fmt: skip
    response.headers["Location"] = f"/api/attachments/{attachment.id}"
    if not new:
        response.status_code = 200
    record = read_record(session=session, record_id=record_id, actor=actor)
    return to_full(session, record, actor, response)


@router.get("/api/records/{record_id}/attachments", dependencies=[Depends(RECORD_READERS)])
def list_record_attachments(
    record_id: int, session: SessionDep, actor: CurrentActor
) -> AttachmentsPublic:
    """Return a record's files, oldest first."""
    found = list_attachments(session=session, record_id=record_id, actor=actor)
    return AttachmentsPublic(data=[AttachmentPublic.of(a) for a in found], count=len(found))


@router.get(
    "/api/attachments/{attachment_id}",
    dependencies=[Depends(RECORD_READERS)],
    response_class=Response,
    responses={200: {"content": _TYPES, "description": "The file as it was uploaded"}},
)
def read_attachment_file(attachment_id: int, session: SessionDep, actor: CurrentActor) -> Response:
    """Return a file attached to a record the caller may read, as it was uploaded."""
    attachment, content = read_attachment(session=session, attachment_id=attachment_id,
                                          actor=actor)  # fmt: skip
    return Response(content, media_type=attachment.media_type, headers=_file_headers(attachment))


@router.delete("/api/attachments/{attachment_id}", dependencies=[Depends(RECORD_WRITERS)])
def delete_attachment_file(
    attachment_id: int,
    session: SessionDep,
    actor: CurrentActor,
    response: Response,
    if_match: IfMatch = None,
) -> RecordPublic:
    """Remove a file from its open record at the record's version (If-Match); answer the record."""
    version = if_match_version(if_match)
    record = delete_attachment(session=session, attachment_id=attachment_id,
                               expected_version=version, actor=actor)  # fmt: skip
    return to_full(session, record, actor, response)
