"""The training resource library and course centre: upload, read (with ranges), write courses."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Header, Query, Request, Response, UploadFile
from fastapi.responses import StreamingResponse
from starlette.exceptions import HTTPException

from api.access import TRAINING_READERS, TRAINING_STAFF
from api.bodies import documented
from api.deps import CurrentActor, SessionDep, SettingsDep, if_match_version
from api.routes.attachments import content_disposition
from api.schemas.errors import ErrorBody
from api.schemas.training import (
    CourseCreate,
    CoursePublic,
    CoursesPublic,
    CourseSummary,
    CourseUpdate,
    ResourcePublic,
    ResourcesPublic,
)
from layers.training.courses import (
    CourseChange,
    course_resources,
    create_course,
    list_courses,
    read_course,
    update_course,
)
from layers.training.models import TrainingResource
from layers.training.resources import (
    ResourceUpload,
    add_resource,
    list_resources,
    read_resource,
    slices,
)

router = APIRouter(prefix="/api/training", tags=["training"])
IfMatch = Annotated[str | None, Header(max_length=40)]
_RANGE = re.compile(r"bytes=(\d{0,18})-(\d{0,18})")
# A resource is data, never a page: nothing in it may run or load anything.
_SANDBOX = "default-src 'none'; media-src 'self'; sandbox"
_MEDIA: dict[str, dict[str, str]] = {"application/pdf": {}, "video/mp4": {}, "video/webm": {}}


def _unsatisfiable(size: int, why: str) -> HTTPException:
    return HTTPException(416, f"{why}; the resource has {size:,} bytes (0-{size - 1})",
                         headers={"Content-Range": f"bytes */{size}"})  # fmt: skip


def byte_range(header: str, size: int) -> tuple[int, int]:
    """Return the first and last byte a Range header asks for, or raise 416 naming the problem.

    One range per request: ``bytes=a-b``, ``bytes=a-`` or the last n bytes ``bytes=-n``.
    """
    match = _RANGE.fullmatch(header.strip().replace(" ", ""))
    if match is None or match.group(1) == match.group(2) == "":
        raise _unsatisfiable(size, f"Range {header[:60]!r} is not one 'bytes=first-last' range")
    first, last = match.group(1), match.group(2)
    if first == "":
        start, end = max(0, size - int(last)), size - 1
        if int(last) == 0:
            raise _unsatisfiable(size, "a suffix range of 0 bytes asks for nothing")
    else:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
        if last and int(last) < start:
            raise _unsatisfiable(size, f"the range ends ({last}) before it starts ({first})")
    if start >= size:
        raise _unsatisfiable(size, f"the range starts at byte {start:,}, past the end")
    return start, end


def _headers(resource: TrainingResource) -> dict[str, str]:
    inline = resource.kind == "video"  # a video plays in the page; a PDF is saved, not rendered
    return {
        "Accept-Ranges": "bytes",
        "ETag": f'"{resource.sm3}"',
        "Content-Disposition": content_disposition(resource.name, inline=inline),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": _SANDBOX,
        "Cache-Control": "private, no-store",
    }


@router.post(
    "/resources",
    dependencies=[Depends(TRAINING_STAFF)],
    status_code=201,
    responses={200: {"description": "the same file is in the library already"}},
)
def create_resource(
    file: Annotated[UploadFile, File(description="PDF, MP4 or WebM, told by its bytes")],
    title: Annotated[str, Form(min_length=1, max_length=200)],
    session: SessionDep,
    actor: CurrentActor,
    settings: SettingsDep,
    response: Response,
) -> ResourcePublic:
    """Add a document or video to the resource library (checked, SM3, size-capped)."""
    cap = max(settings.training.video_bytes, settings.training.document_bytes)
    upload = ResourceUpload(content=file.file.read(cap + 1), title=title, name=file.filename,
                            declared_type=file.content_type)  # fmt: skip
    resource, new = add_resource(session=session, upload=upload, actor=actor,
                                 settings=settings.training)  # fmt: skip
    response.headers["Location"] = f"{router.prefix}/resources/{resource.id}"
    if not new:
        response.status_code = 200
    return ResourcePublic.of(resource)


@router.get("/resources", dependencies=[Depends(TRAINING_STAFF)])
def list_library(
    session: SessionDep,
    actor: CurrentActor,
    kind: Annotated[str | None, Query(pattern="^(document|video)$")] = None,
) -> ResourcesPublic:
    """Return the resource library, newest first."""
    found = list_resources(session=session, actor=actor, kind=kind)
    return ResourcesPublic(data=[ResourcePublic.of(r) for r in found], count=len(found))


@router.get("/resources/{resource_id}", dependencies=[Depends(TRAINING_READERS)])
def read_library_resource(
    resource_id: int, session: SessionDep, actor: CurrentActor
) -> ResourcePublic:
    """Return what a resource is (staff: any; a learner: one of their courses')."""
    return ResourcePublic.of(read_resource(session=session, resource_id=resource_id, actor=actor))


@router.get(
    "/resources/{resource_id}/content",
    dependencies=[Depends(TRAINING_READERS)],
    response_class=Response,
    responses={
        200: {"content": _MEDIA, "description": "The whole file"},
        206: {"content": _MEDIA, "description": "The bytes the Range header asks for"},
        416: {
            "description": "A Range the file cannot satisfy (Content-Range: bytes */size)",
            "content": {"application/json": {"schema": documented(ErrorBody)}},
        },
    },
)
def read_resource_content(
    resource_id: int,
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    settings: SettingsDep,
    range_: Annotated[str | None, Header(alias="Range", max_length=200)] = None,
    if_range: Annotated[str | None, Header(max_length=100)] = None,
) -> Response:
    """Return a resource's bytes, or the one range asked for (206), read a slice at a time."""
    resource = read_resource(session=session, resource_id=resource_id, actor=actor)
    headers = _headers(resource)
    size = resource.size_bytes
    status, start, end = 200, 0, size - 1
    if range_ is not None and (if_range is None or if_range.strip() == headers["ETag"]):
        start, end = byte_range(range_, size)
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    headers["Content-Length"] = str(end - start + 1)
    body = slices(request.app.state.sessionmaker, resource.id, start, end,
                  settings.training.read_chunk_bytes)  # fmt: skip
    return StreamingResponse(body, status_code=status, media_type=resource.media_type,
                             headers=headers)  # fmt: skip


@router.post("/courses", dependencies=[Depends(TRAINING_STAFF)], status_code=201)
def create_training_course(
    body: CourseCreate, session: SessionDep, actor: CurrentActor, response: Response
) -> CoursePublic:
    """Write a course of library resources with a quiz and a pass mark."""
    course = create_course(session=session, course=body.to_domain(), actor=actor)
    response.headers["Location"] = f"{router.prefix}/courses/{course.id}"
    response.headers["ETag"] = f'"{course.version}"'
    return CoursePublic.of(course, course_resources(session, course.id))


@router.get("/courses", dependencies=[Depends(TRAINING_STAFF)])
def list_training_courses(
    session: SessionDep,
    actor: CurrentActor,
    state: Annotated[str | None, Query(pattern="^(draft|published|retired)$")] = None,
) -> CoursesPublic:
    """Return the course centre: courses of your jurisdiction, your district and the city."""
    found = list_courses(session=session, actor=actor, state=state)
    return CoursesPublic(data=[CourseSummary.of(c) for c in found], count=len(found))


@router.get("/courses/{course_id}", dependencies=[Depends(TRAINING_STAFF)])
def read_training_course(
    course_id: int, session: SessionDep, actor: CurrentActor, response: Response
) -> CoursePublic:
    """Return a course with its resources and its quiz, right answers included (staff)."""
    course = read_course(session=session, course_id=course_id, actor=actor)
    response.headers["ETag"] = f'"{course.version}"'
    return CoursePublic.of(course, course_resources(session, course.id))


@router.patch("/courses/{course_id}", dependencies=[Depends(TRAINING_STAFF)])
def update_training_course(
    course_id: int,
    body: CourseUpdate,
    session: SessionDep,
    actor: CurrentActor,
    response: Response,
    if_match: IfMatch = None,
) -> CoursePublic:
    """Edit a course of your jurisdiction at its version (If-Match)."""
    course = update_course(session=session, course_id=course_id,
                           change=CourseChange(body.fields()),
                           expected_version=if_match_version(if_match), actor=actor)  # fmt: skip
    response.headers["ETag"] = f'"{course.version}"'
    return CoursePublic.of(course, course_resources(session, course.id))
