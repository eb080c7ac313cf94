"""Feedback: any logged-in user sends it (with a PNG screenshot), admins triage it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Header, Query, Response, UploadFile

from api.access import SIGNED_IN, requires
from api.deps import CurrentActor, SessionDep, SettingsDep, if_match_version
from api.schemas.feedback import FeedbackPublic, FeedbacksPublic, FeedbackStatus, FeedbackTriage
from layers.accounts.roles import Permission
from layers.ops.feedback import (
    NEXT_STATUSES,
    list_feedback,
    read_screenshot,
    submit_feedback,
    triage_feedback,
)
from layers.ops.models import Feedback

OPERATORS = requires(Permission.OPERATIONS)
router = APIRouter(tags=["feedback"])


def _public(feedback: Feedback) -> FeedbackPublic:
    public = FeedbackPublic.model_validate(feedback)
    return public.model_copy(update={"next_statuses": sorted(NEXT_STATUSES[feedback.status])})


@router.post("/api/feedback", dependencies=[Depends(SIGNED_IN)], status_code=201)
def create_feedback(
    response: Response, session: SessionDep, actor: CurrentActor, settings: SettingsDep,
    text: Annotated[str, Form(min_length=1, max_length=4000)],
    page_url: Annotated[str, Form(min_length=1, max_length=2000)],
    screenshot: Annotated[UploadFile | None, File(description="a PNG image")] = None,
) -> FeedbackPublic:  # fmt: skip
    """Send feedback about a page, optionally with a PNG screenshot (multipart form)."""
    cap = settings.ops.feedback_screenshot_bytes
    image = screenshot.file.read(cap + 1) if screenshot is not None else b""
    feedback = submit_feedback(
        session=session, actor=actor, text=text.strip(), page_url=page_url.strip(),
        screenshot=image or None, max_screenshot_bytes=cap,
    )  # fmt: skip
    response.headers["ETag"] = f'"{feedback.version}"'
    return _public(feedback)


@router.get("/api/admin/feedback", dependencies=[Depends(OPERATORS)])
def list_feedback_route(
    session: SessionDep, actor: CurrentActor, status: FeedbackStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> FeedbacksPublic:  # fmt: skip
    """List feedback, newest first, optionally of one status."""
    found = list_feedback(session=session, actor=actor, status=status, limit=limit)
    return FeedbacksPublic(data=[_public(f) for f in found],
                           count=len(found))  # fmt: skip


@router.patch("/api/admin/feedback/{feedback_id}", dependencies=[Depends(OPERATORS)])
def update_feedback(
    feedback_id: int, body: FeedbackTriage, response: Response, session: SessionDep,
    actor: CurrentActor, if_match: Annotated[str | None, Header()] = None,
) -> FeedbackPublic:  # fmt: skip
    """Triage a feedback (new -> in_progress -> done/rejected) with a note; needs If-Match."""
    feedback = triage_feedback(
        session=session, actor=actor, feedback_id=feedback_id, status=body.status,
        note=body.note, expected_version=if_match_version(if_match),
    )  # fmt: skip
    response.headers["ETag"] = f'"{feedback.version}"'
    return _public(feedback)


@router.get(
    "/api/admin/feedback/{feedback_id}/screenshot",
    dependencies=[Depends(OPERATORS)],
    response_class=Response,
    responses={200: {"content": {"image/png": {}}, "description": "The PNG screenshot"}},
)
def read_feedback_screenshot(
    feedback_id: int, session: SessionDep, actor: CurrentActor
) -> Response:
    """Return the screenshot sent with a feedback."""
    image = read_screenshot(session=session, actor=actor, feedback_id=feedback_id)
    headers = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff",
               "Content-Disposition": f'inline; filename="feedback-{feedback_id}.png"'}  # fmt: skip
    return Response(image, media_type="image/png", headers=headers)
