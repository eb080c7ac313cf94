"""Opaque page cursors: a short list of JSON values, base64 for URLs, checked on the way back."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from layers.errors import InvalidInput

INVALID = "invalid cursor: use the 'next' link of the previous page"


def pack_cursor(parts: list[Any]) -> str:
    """Return the cursor carrying ``parts`` (JSON-ready values)."""
    return base64.urlsafe_b64encode(json.dumps(parts).encode()).decode().rstrip("=")


def unpack_cursor(cursor: str, length: int) -> list[Any]:
    """Return the ``length`` parts of a cursor, or raise ``InvalidInput``."""
    try:
        parts = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError, binascii.Error, RecursionError):
        raise InvalidInput(INVALID) from None
    if not isinstance(parts, list) or len(parts) != length:
        raise InvalidInput(INVALID)
    return parts


def is_bigint(value: Any) -> bool:
    """Return whether ``value`` is an int that fits a PostgreSQL bigint (not a bool)."""
    return type(value) is int and -(2**63) <= value < 2**63
