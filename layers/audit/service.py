"""Write audit records and events; called inside the transaction of every write."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from geoalchemy2.shape import from_shape
from shapely import box
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from layers.accounts.scope import Actor
from layers.audit.chain import GENESIS_HASH, keyed_hash, verify_chain
from layers.audit.models import AuditRecord, Event
from layers.crypto.keys import key_ring_of
from layers.errors import NotFound, PermissionDenied

# One advisory lock key serialises appends to the hash chain and the event log.
_AUDIT_LOCK_KEY = 0x57415252
_NEXT_ID = "SELECT nextval(pg_get_serial_sequence('audit_log', 'id'))"


def lock_event_log(session: Session) -> None:
    """Hold the lock that orders appends to the audit chain and the event log until commit."""
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _AUDIT_LOCK_KEY})


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
    """Append one audit record, sealed with the key ring's audit key, in the caller's transaction.

    ``claimed`` is (name, client) of a caller who is no actor, e.g. an unknown name at login.
    A session without a key ring writes nothing (``KeySourceError``).
    """
    ring = key_ring_of(session)
    lock_event_log(session)
    last = session.execute(
        select(AuditRecord.id, AuditRecord.chain_hash).order_by(AuditRecord.id.desc()).limit(1)
    ).one_or_none()
    drawn = int(session.scalar(text(_NEXT_ID)) or 0)
    record = AuditRecord(
        # The seal covers the id, so it is chosen before the row is written (never updated);
        # past the last one, even if a row was put in by hand with an id of its own.
        id=max(drawn, last.id + 1) if last else drawn,
        at=datetime.now(UTC),
        actor_id=actor.user_id if actor else None,
        actor_name=actor.username if actor else (claimed[0] if claimed else "system"),
        actor_role=actor.role.value if actor else None,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        result=result,
        detail=detail,
        client=actor.client if actor else (claimed[1] if claimed else None),
        before=before,
        after=after,
        key_version=ring.current,
        prev_hash=last.chain_hash if last else GENESIS_HASH,
    )
    record.chain_hash = keyed_hash(record.prev_hash, record, ring.key_for("audit", ring.current))
    session.add(record)
    session.flush()
    return record


def verify_audit_chain(session: Session) -> int | None:
    """Return the id of the first record that breaks the chain, or None if it is intact.

    The key ring is the session's (``bind_key_ring``); ``layers.audit.chain.verify_chain``
    says more.
    """
    status = verify_chain(session, key_ring_of(session))
    return status.first_bad_id


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
