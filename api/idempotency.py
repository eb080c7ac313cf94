"""The ``Idempotency-Key`` header: a write a client may resend is done once, answered again.

A route calls ``replayed`` before its write: an id means the write was done already under
this key (answer what it made, 200, ``Idempotent-Replayed: true``); None means go on,
write, and ``remember`` what was made, in the same transaction.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Header, Response
from sqlalchemy.orm import Session

from layers.accounts.scope import Actor
from layers.fieldwork.idempotency import claim, fingerprint, remember

__all__ = ["IdempotencyKeyDep", "remember", "replayed"]

IdempotencyKeyDep = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=64, description="The client's name for this "
           "write (8-64 of A-Z a-z 0-9 _ . : -): sent again, it is answered, not done again."),
]  # fmt: skip


def replayed(
    session: Session, response: Response, *, actor: Actor, key: str | None, action: str,
    content: Any,
) -> int | None:  # fmt: skip
    """Return the id a write under ``key`` made before (marking the answer a replay), or None."""
    if key is None:
        return None
    earlier = claim(session, actor=actor, key=key, action=action, digest=fingerprint(content))
    if earlier is not None:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    return earlier
