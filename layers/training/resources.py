"""The resource library (资源库): documents and videos kept in PostgreSQL with their SM3.

A resource's bytes are checked by content (``layers.training.media``), size-capped by
kind, and stored once per content: the same bytes uploaded again return the resource
already there. Reading is by slices (``substring`` of an uncompressed, out-of-line
value reads only the TOAST chunks it covers), so a range request for a piece of a
large video reads that piece, and a whole video is streamed a slice at a time.
Staff read the whole library; a learner reads a resource of a course assigned to their
unit and nothing else (404, as for one that does not exist).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.orm import Session, sessionmaker

from layers.accounts.scope import Actor
from layers.audit.service import audited_denials, record_audit
from layers.errors import NotFound, PayloadTooLarge
from layers.settings import TrainingSettings
from layers.training.media import inspect_resource, kind_of
from layers.training.models import (
    TrainingAssignment,
    TrainingCourseResource,
    TrainingResource,
    TrainingResourceContent,
)
from layers.training.owners import STAFF, learner_unit, require_staff
from layers.values import storable_text

__all__ = ["ResourceUpload", "add_resource", "list_resources", "read_resource", "slices"]


@dataclass(frozen=True)
class ResourceUpload:
    """A file as a client sent it, with the title it goes by in the library."""

    content: bytes
    title: str
    name: str | None = None
    declared_type: str | None = None


def _cap(settings: TrainingSettings, kind: str) -> tuple[int, str]:
    if kind == "video":
        return settings.video_bytes, "WARROOM_TRAINING_VIDEO_BYTES"
    return settings.document_bytes, "WARROOM_TRAINING_DOCUMENT_BYTES"


def add_resource(
    *, session: Session, upload: ResourceUpload, actor: Actor, settings: TrainingSettings
) -> tuple[TrainingResource, bool]:
    """Keep a checked document or video in the library; return it and whether it is new."""
    with audited_denials(session, actor, "training.resource.create", "training_resource", None):
        require_staff(actor)
    kind = kind_of(upload.content[:16]) if upload.content else "document"
    cap, setting = _cap(settings, kind)
    if len(upload.content) > cap:
        raise PayloadTooLarge(f"the {kind} has {len(upload.content):,} bytes, more than the "
                              f"{cap:,} taken ({setting})")  # fmt: skip
    checked = inspect_resource(upload.content, upload.name, upload.declared_type)
    title = storable_text(upload.title, "the title")
    digest = hashlib.new("sm3", upload.content).hexdigest()
    existing = session.scalar(select(TrainingResource).where(TrainingResource.sm3 == digest))
    if existing is not None:
        return existing, False
    resource = TrainingResource(
        title=title, kind=kind, name=checked.name, media_type=checked.kind.media_type,
        size_bytes=len(upload.content), sm3=digest, created_by=actor.user_id,
        creator_name=actor.username,
    )  # fmt: skip
    session.add(resource)
    session.flush()
    session.add(TrainingResourceContent(resource_id=resource.id, content=upload.content))
    record_audit(session, actor=actor, action="training.resource.create",
                 target_type="training_resource", target_id=resource.id, detail=resource.name,
                 after={"title": title, "kind": kind, "media_type": resource.media_type,
                        "size_bytes": resource.size_bytes, "sm3": digest})  # fmt: skip
    return resource, True


def list_resources(
    *, session: Session, actor: Actor, kind: str | None = None
) -> list[TrainingResource]:
    """Return the library's resources (of ``kind``), newest first (staff only)."""
    require_staff(actor)
    query = select(TrainingResource).order_by(TrainingResource.id.desc())
    if kind is not None:
        query = query.where(TrainingResource.kind == kind)
    return list(session.scalars(query))


def _assigned_to(unit_id: int, resource_id: int) -> ColumnElement[bool]:
    return exists().where(
        TrainingCourseResource.resource_id == resource_id,
        TrainingAssignment.course_id == TrainingCourseResource.course_id,
        TrainingAssignment.unit_id == unit_id,
    )


def read_resource(*, session: Session, resource_id: int, actor: Actor) -> TrainingResource:
    """Return a resource the actor may read: any for staff, their courses' for a learner."""
    resource = session.get(TrainingResource, resource_id)
    if resource is not None and actor.role not in STAFF:
        unit_id = learner_unit(actor)
        if not session.scalar(select(_assigned_to(unit_id, resource_id))):
            resource = None
    if resource is None:
        raise NotFound(f"there is no resource {resource_id}")
    return resource


def slices(
    sessions: sessionmaker[Session], resource_id: int, start: int, end: int, chunk_bytes: int
) -> Iterator[bytes]:
    """Yield bytes ``start`` to ``end`` (inclusive) of a resource, a slice per transaction."""
    at = start
    while at <= end:
        length = min(chunk_bytes, end - at + 1)
        piece = func.substring(TrainingResourceContent.content, at + 1, length)
        with sessions() as session:
            data = session.scalar(select(piece).where(
                TrainingResourceContent.resource_id == resource_id))  # fmt: skip
        if not data:  # removed meanwhile: end the body short, the client sees it cut
            return
        yield bytes(data)
        at += length
