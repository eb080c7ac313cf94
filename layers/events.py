"""Tell in-process subscribers (e.g. the tile cache) about feature changes once committed.

The write path calls ``announce_after_commit`` with the event it appended; subscribers
hear of it only after the transaction commits, never for a rolled-back change.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from geoalchemy2.shape import to_shape
from sqlalchemy import event
from sqlalchemy.orm import Session

from layers.audit.models import Event

logger = logging.getLogger(__name__)

BBox = tuple[float, float, float, float]
_PENDING = "warroom.pending_changes"


@dataclass(frozen=True)
class Change:
    """A committed change to ``layer`` within WGS84 ``bounds`` (old and new geometry)."""

    layer: str
    bounds: BBox


Subscriber = Callable[[Change], object]
_subscribers: list[Subscriber] = []


def subscribe(callback: Subscriber) -> Callable[[], None]:
    """Call ``callback`` with every committed change; return the function that stops it."""
    _subscribers.append(callback)
    return lambda: _subscribers.remove(callback)


def announce_after_commit(session: Session, appended: Event) -> None:
    """Queue the change an appended event describes until ``session`` commits."""
    if appended.layer is None or appended.bbox is None:
        return
    bounds: BBox = to_shape(appended.bbox).bounds
    announce_change_after_commit(session, Change(appended.layer, bounds))


def announce_change_after_commit(session: Session, change: Change) -> None:
    """Queue ``change`` (say, to what a layer's tiles show of it) until ``session`` commits."""
    session.info.setdefault(_PENDING, []).append(change)


@event.listens_for(Session, "after_commit")
def _announce(session: Session) -> None:
    for change in session.info.pop(_PENDING, []):
        for callback in list(_subscribers):
            try:
                callback(change)
            except Exception:  # a subscriber must not turn a committed write into an error
                logger.exception("change subscriber %r failed on %r", callback, change)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)
