"""Writes a client may send more than once (a phone resending after a lost answer).

The client names each write with a key of its own (the ``Idempotency-Key`` header). The
first write with a key claims it in the writing transaction; a write arriving with the
same key after it committed gets what the first made, and one arriving meanwhile waits
on the key's row until the first ends (committed: replayed; rolled back: written anew).
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from layers.accounts.scope import Actor
from layers.errors import Conflict, InvalidInput
from layers.fieldwork.models import ClientWrite

__all__ = ["check_key", "claim", "fingerprint", "remember"]

_KEY = re.compile(r"[A-Za-z0-9_.:-]{8,64}")


def check_key(key: str) -> str:
    """Return ``key`` if it can name a write (8-64 letters, digits, ``_.:-``), or raise 422."""
    if not _KEY.fullmatch(key):
        raise InvalidInput("Idempotency-Key must be 8 to 64 letters, digits or _ . : -")
    return key


def fingerprint(content: Any) -> str:
    """Return the SHA-256 of ``content`` as canonical JSON: equal content, equal digest."""
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)  # fmt: skip
    return hashlib.sha256(text.encode()).hexdigest()


def claim(
    session: Session, *, actor: Actor, key: str, action: str, digest: str
) -> int | None:  # fmt: skip
    """Claim ``key`` for a write; return None to go on, or the id an earlier write made.

    Raises ``Conflict`` when the key named another action or other content, and
    ``InvalidInput`` for an actor without a user id (no key is theirs).
    """
    if actor.user_id is None:
        raise InvalidInput("only a signed-in user's writes can carry an Idempotency-Key")
    claimed = session.execute(
        insert(ClientWrite)
        .values(user_id=actor.user_id, key=check_key(key), action=action, fingerprint=digest)
        .on_conflict_do_nothing()
        .returning(ClientWrite.key)
    ).first()
    if claimed is not None:
        return None
    earlier = session.execute(
        select(ClientWrite.action, ClientWrite.fingerprint, ClientWrite.target_id).where(
            ClientWrite.user_id == actor.user_id, ClientWrite.key == key
        )
    ).one()
    if earlier.action != action or earlier.fingerprint != digest:
        raise Conflict(f"Idempotency-Key {key!r} was used for another request; use a new key")
    return int(earlier.target_id)


def remember(session: Session, *, actor: Actor, key: str, target_id: int) -> None:
    """Record what the write under ``key`` made, in its transaction."""
    session.execute(
        update(ClientWrite)
        .where(ClientWrite.user_id == actor.user_id, ClientWrite.key == key)
        .values(target_id=target_id)
    )
