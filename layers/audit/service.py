"""Write audit records and events; called inside the transaction of every write."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from geoalchemy2.shape import from_shape
from shapely import box
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from layers.accounts.scope import Actor
from layers.audit.models import AuditRecord, Event
from layers.errors import NotFound, PermissionDenied

GENESIS_HASH = "0" * 64
# One advisory lock key serialises appends to the hash chain and the event log.
_AUDIT_LOCK_KEY = 0x57415252


def _canonical(record: AuditRecord) -> bytes:
    content = {
        "at": record.at.astimezone(UTC).isoformat(),
        "actor_id": record.actor_id,
        "actor_name": record.actor_name,
        "action": record.action,
        "target_type": record.target_type,
        "target_id": record.target_id,
        "result": record.result,
        "detail": record.detail,
        "before": record.before,
        "after": record.after,
    }
    return json.dumps(content, sort_keys=True, ensure_ascii=False, default=str).encode()


def lock_event_log(session: Session) -> None:
    """Hold the lock that orders appends to the audit chain and the event log until commit."""
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _AUDIT_LOCK_KEY})


def chain_hash(prev_hash: str, record: AuditRecord) -> str:
    """Return the SM3 chain hash of ``record`` following ``prev_hash``."""
    return hashlib.new("sm3", prev_hash.encode() + _canonical(record)).hexdigest()


def record_audit(
    session: Session,
    *,
    actor: Actor | None,
    action: str,
    target_type: str,
    target_id: str | int | None = None,
    result: str = "ok",
    detail: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    claimed: tuple[str, str | None] | None = None,
) -> AuditRecord:
    """Append one audit record to the chain within the caller's transaction.

    ``claimed`` is (name, client) of a caller who is no actor, e.g. an unknown name at login.
    """
    lock_event_log(session)
    prev = session.scalar(select(AuditRecord.chain_hash).order_by(AuditRecord.id.desc()).limit(1))
    record = AuditRecord(
        at=datetime.now(UTC),
        actor_id=actor.user_id if actor else None,
        actor_name=actor.username if actor else (claimed[0] if claimed else "system"),
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        result=result,
        detail=detail,
        client=actor.client if actor else (claimed[1] if claimed else None),
        before=before,
        after=after,
        prev_hash=prev or GENESIS_HASH,
    )
    record.chain_hash = chain_hash(record.prev_hash, record)
    session.add(record)
    session.flush()
    return record


def verify_audit_chain(session: Session) -> int | None:
    """Return the id of the first record whose hash does not match, or None if intact."""
    prev = GENESIS_HASH
    for record in session.scalars(select(AuditRecord).order_by(AuditRecord.id)):
        if record.prev_hash != prev or chain_hash(prev, record) != record.chain_hash:
            return record.id
        prev = record.chain_hash
    return None


def append_event(
    session: Session,
    *,
    type: str,
    actor: Actor | None,
    layer: str | None = None,
    feature_id: int | None = None,
    bounds: tuple[float, float, float, float] | None = None,
    payload: dict[str, Any] | None = None,
) -> Event:
    """Append one event to the ordered log within the caller's transaction.

    The same transaction-scoped lock as the audit chain is held until commit, so events
    become visible in id order and a reader polling ``id > last_seen`` misses none.
    """
    lock_event_log(session)
    event = Event(
        type=type,
        layer=layer,
        feature_id=feature_id,
        bbox=from_shape(box(*bounds), srid=4326) if bounds else None,
        payload=payload or {},
        actor_id=actor.user_id if actor else None,
    )
    session.add(event)
    session.flush()
    return event


@contextmanager
def audited_denials(
    session: Session, actor: Actor, action: str, target_type: str, target_id: int | None
) -> Iterator[None]:
    """Audit a refused write: undo its partial work, record the denial, commit, re-raise.

    A write to nothing the actor may see (``NotFound``) is refused alike, whether the
    target is in another jurisdiction or absent, so both take the same time.
    """
    try:
        yield
    except (PermissionDenied, NotFound) as exc:
        session.rollback()
        record_audit(session, actor=actor, action=action, target_type=target_type,
                     target_id=target_id, result="denied", detail=exc.message)  # fmt: skip
        session.commit()
        raise
