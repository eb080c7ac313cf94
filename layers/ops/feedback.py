"""Users' feedback: any logged-in user sends it, admins triage it; every write audited.

Triage moves a feedback ``new -> in_progress -> done`` (or ``rejected`` from either
open state) with a note, against the version the admin last saw (If-Match).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from layers.accounts.roles import Permission
from layers.accounts.scope import Actor
from layers.audit.service import append_event, audited_denials, record_audit
from layers.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PreconditionRequired,
    VersionConflict,
)
from layers.ops.models import Feedback
from layers.ops.png import check_png

NEXT_STATUSES: dict[str, frozenset[str]] = {
    "new": frozenset({"in_progress", "rejected"}),
    "in_progress": frozenset({"done", "rejected"}),
    "done": frozenset(),
    "rejected": frozenset(),
}


def submit_feedback(
    *, session: Session, actor: Actor, text: str, page_url: str, screenshot: bytes | None,
    max_screenshot_bytes: int,
) -> Feedback:  # fmt: skip
    """Store a user's feedback with an optional PNG screenshot (checked by its content)."""
    if not page_url.startswith(("/", "http://", "https://")):
        raise InvalidInput("page_url must be the page's address: a path or an http(s) URL")
    if screenshot is not None:
        if len(screenshot) > max_screenshot_bytes:
            raise InvalidInput(f"the screenshot has {len(screenshot):,} bytes; at most "
                               f"{max_screenshot_bytes:,} are accepted")  # fmt: skip
        check_png(screenshot)
    feedback = Feedback(
        author_id=actor.user_id, author_name=actor.username, page_url=page_url, text=text,
        screenshot=screenshot or None, screenshot_bytes=len(screenshot or b""), status="new",
        version=1,
    )  # fmt: skip
    session.add(feedback)
    session.flush()
    after = {"page_url": page_url, "screenshot_bytes": feedback.screenshot_bytes}
    record_audit(session, actor=actor, action="feedback.create", target_type="feedback",
                 target_id=feedback.id, after=after)  # fmt: skip
    append_event(session, type="feedback.created", actor=actor,
                 payload={"feedback_id": feedback.id, "status": feedback.status})  # fmt: skip
    return feedback


def list_feedback(
    *, session: Session, actor: Actor, status: str | None, limit: int
) -> list[Feedback]:
    """Return the latest feedback, newest first (optionally of one status), without images."""
    actor.require(Permission.OPERATIONS)
    query = select(Feedback).order_by(Feedback.id.desc()).limit(limit)
    if status is not None:
        query = query.where(Feedback.status == status)
    return list(session.scalars(query))


def read_screenshot(*, session: Session, actor: Actor, feedback_id: int) -> bytes:
    """Return the PNG screenshot of a feedback, or raise ``NotFound``."""
    actor.require(Permission.OPERATIONS)
    image = session.scalar(select(Feedback.screenshot).where(Feedback.id == feedback_id))
    if image is None:
        raise NotFound(f"feedback {feedback_id} has no screenshot, or there is no such feedback")
    return image


def triage_feedback(
    *, session: Session, actor: Actor, feedback_id: int, status: str, note: str | None,
    expected_version: int | None,
) -> Feedback:  # fmt: skip
    """Move a feedback to ``status`` with a note, if it is still at ``expected_version``."""
    with audited_denials(session, actor, "feedback.triage", "feedback", feedback_id):
        actor.require(Permission.OPERATIONS)
        feedback = session.get(Feedback, feedback_id, with_for_update=True)
        if feedback is None:
            raise NotFound(f"no feedback {feedback_id}")
    if expected_version is None:
        raise PreconditionRequired("send If-Match with the feedback's version (its ETag)")
    if expected_version != feedback.version:
        raise VersionConflict(
            f"feedback {feedback_id} is at version {feedback.version}, not {expected_version}: "
            "reload it and decide again",
            current_version=feedback.version,
        )
    if status != feedback.status and status not in NEXT_STATUSES[feedback.status]:
        allowed = ", ".join(sorted(NEXT_STATUSES[feedback.status])) or "none (it is closed)"
        raise Conflict(f"feedback {feedback_id} is {feedback.status!r}: it can go to {allowed}")
    before = {"status": feedback.status, "note": feedback.note}
    feedback.status, feedback.note = status, note
    feedback.triaged_by, feedback.updated_at = actor.username, datetime.now(UTC)
    feedback.version += 1
    record_audit(session, actor=actor, action="feedback.triage", target_type="feedback",
                 target_id=feedback_id, before=before,
                 after={"status": status, "note": note})  # fmt: skip
    append_event(session, type="feedback.triaged", actor=actor,
                 payload={"feedback_id": feedback_id, "status": status})  # fmt: skip
    return feedback
