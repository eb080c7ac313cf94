"""How far back replay and state-at-time reach: the last ``window_hours`` (24 by default)."""

from __future__ import annotations

from datetime import datetime, timedelta

from layers.errors import InvalidInput


def replay_span(
    *, since: datetime | None, until: datetime | None, now: datetime, window_hours: float
) -> tuple[datetime, datetime]:
    """Return the span to replay: ``since`` no earlier than the window, ``until`` not past now.

    An earlier ``since`` is moved to the window's start (a page asked for a moment later
    must not fail because the window moved on); a ``since`` after ``until`` is refused.
    """
    earliest = now - timedelta(hours=window_hours)
    start = earliest if since is None else max(since, earliest)
    end = now if until is None else min(until, now)
    if start > end:
        raise InvalidInput(
            f"from {start.isoformat()} is after to {end.isoformat()} (replay covers the last "
            f"{window_hours:g} h, WARROOM_STREAM_WINDOW_HOURS)"
        )
    return start, end


def check_instant(*, at: datetime, now: datetime, window_hours: float) -> datetime:
    """Return ``at`` if it lies within the window (up to now), or raise naming the window."""
    earliest = now - timedelta(hours=window_hours)
    if not earliest <= at <= now:
        raise InvalidInput(
            f"at must lie within the last {window_hours:g} h (WARROOM_STREAM_WINDOW_HOURS): "
            f"from {earliest.isoformat(timespec='seconds')} to now, got {at.isoformat()}"
        )
    return at
