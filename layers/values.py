"""Raw values every door checks the same way: text and instants PostgreSQL can store.

PostgreSQL text cannot hold NUL, and a lone surrogate (``"\\ud800"``, which JSON can
spell) has no UTF-8 encoding; either would reach the database driver and fail there.
PostgreSQL also refuses UTC offsets beyond ±15:59 that ISO 8601 allows (``-23:59``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo

from layers.errors import InvalidInput

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def text_problem(text: str) -> str | None:
    """Return why ``text`` cannot be stored (a NUL, a lone surrogate), or None if it can."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return "contains a NUL character"
    return f"contains a lone surrogate {found.group()!a} (not UTF-8 text)"


def storable_text(text: str, what: str) -> str:
    """Return ``text`` if PostgreSQL can store it, else raise ``InvalidInput`` naming ``what``."""
    problem = text_problem(text)
    if problem is not None:
        raise InvalidInput(f"{what} {problem}")
    return text


def storable_instant(value: datetime, what: str, zone: tzinfo = UTC) -> datetime:
    """Return an aware ``value`` expressed in ``zone`` (a naive one as it is), or raise.

    Any UTC offset Python reads becomes one PostgreSQL accepts; an instant that leaves
    the calendar in ``zone`` (``0001-01-01T00:00:00+01:00``) is ``InvalidInput``.
    """
    if value.tzinfo is None:
        return value
    try:
        return value.astimezone(zone)
    except (OverflowError, ValueError):
        raise InvalidInput(f"{what} {value.isoformat()} lies outside the calendar") from None
