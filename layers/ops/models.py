"""ORM model of users' feedback: what they wrote, where, a screenshot, and its triage."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    func,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column

from layers.base import Base

FEEDBACK_STATUSES = ("new", "in_progress", "done", "rejected")


class Feedback(Base):
    """One user's report from a page; admins move it new -> in_progress -> done/rejected."""

    __tablename__ = "feedback"
    __table_args__ = (
        CheckConstraint("status IN ('new','in_progress','done','rejected')", name="status"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    author_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    author_name: Mapped[str] = mapped_column(String(64))
    page_url: Mapped[str] = mapped_column(String(2000))
    text: Mapped[str] = mapped_column(String(4000))
    # Loaded only when asked for: a list of feedback never carries the images.
    screenshot: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    screenshot_bytes: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="new", index=True)
    note: Mapped[str | None] = mapped_column(String(2000))
    triaged_by: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
