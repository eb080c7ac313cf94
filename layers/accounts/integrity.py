"""A user's authority sealed with HMAC-SM3 (GB/T 39786-2021: 访问控制信息完整性).

What decides what a user may do - name, role, jurisdiction, enabled state - is sealed in
``users.authority_mac``: key version (2 bytes) | HMAC-SM3(the key ring's ``access`` key
of that version, canonical JSON of those fields and the user's id). The id in the
message means a seal copied from another user fails; the version lets a rotated ring
check seals made under an older key.

Every ORM flush that writes a sealed field seals again (a ``before_flush`` listener, so
no write path can forget), after checking the old seal: a legitimate change never
blesses a value someone changed with SQL. Logging in and resolving a session check the
seal (``refuse_if_tampered``): a role, jurisdiction or state changed outside the
application, or a missing seal, is refused and audited (``access.tampered``).
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import event, inspect, select, text
from sqlalchemy.orm import Session, UOWTransaction

from layers.accounts.models import User
from layers.accounts.scope import Actor
from layers.audit.service import record_audit
from layers.crypto.keys import KeyRing, hmac_sm3, key_ring_of
from layers.errors import Conflict, NotAuthenticated

SEALED = ("username", "role", "district_id", "precinct_id", "unit_id", "is_active")
VERSION_BYTES = 2
MAC_BYTES = 32
TAMPERED = "access.tampered"
_NEXT_USER_ID = text("SELECT nextval(pg_get_serial_sequence('users', 'id'))")


def _message(user_id: int, fields: Mapping[str, Any]) -> bytes:
    """Return the canonical bytes sealed for ``user_id``'s ``fields``."""
    document = {"user": user_id, **{name: fields[name] for name in SEALED}}
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def _mac(ring: KeyRing, version: int, message: bytes) -> bytes:
    return hmac_sm3(ring.key_for("access", version), message)


def seal_of(ring: KeyRing, user_id: int, fields: Mapping[str, Any]) -> bytes:
    """Return the seal of ``fields`` for ``user_id`` under the ring's current key."""
    version = ring.current
    return version.to_bytes(VERSION_BYTES, "big") + _mac(ring, version, _message(user_id, fields))


def _intact(ring: KeyRing, user_id: int, fields: Mapping[str, Any], mac: bytes | None) -> bool:
    if mac is None or len(mac) != VERSION_BYTES + MAC_BYTES:
        return False
    version = int.from_bytes(mac[:VERSION_BYTES], "big")
    return hmac.compare_digest(mac[VERSION_BYTES:], _mac(ring, version, _message(user_id, fields)))


def _fields(user: User) -> dict[str, Any]:
    return {name: getattr(user, name) for name in SEALED}


def is_intact(ring: KeyRing, user: User) -> bool:
    """Return whether ``user``'s authority matches its seal (False when it has none)."""
    return _intact(ring, user.id, _fields(user), user.authority_mac)


def seal(ring: KeyRing, user: User) -> None:
    """Seal ``user``'s current authority under the ring's current key."""
    user.authority_mac = seal_of(ring, user.id, _fields(user))


def broken_seals(session: Session) -> list[tuple[User, str]]:
    """Return every user whose seal fails or is missing, with which, in id order."""
    ring = key_ring_of(session)
    users = session.scalars(select(User).order_by(User.id))
    return [(user, "seal fails" if user.authority_mac else "not sealed")
            for user in users if not is_intact(ring, user)]  # fmt: skip


def refuse_if_tampered(session: Session, user: User, client: str | None) -> None:
    """Audit (committed at once) and refuse a user whose authority does not match its seal."""
    if is_intact(key_ring_of(session), user):
        return
    problem = "has no seal" if user.authority_mac is None else "does not match its seal"
    record_audit(
        session, actor=None, action=TAMPERED, target_type="user", target_id=user.id,
        result="denied", claimed=(user.username, client),
        detail=f"role, jurisdiction or state {problem} (HMAC-SM3); refused",
    )  # fmt: skip
    session.commit()  # the request fails, its refusal stays
    raise NotAuthenticated(
        "this account's access-control information failed its integrity check; "
        "ask the security administrator"
    )


def tampered_conflict(user_id: int, username: str) -> Conflict:
    """Return the error refusing to change a user whose seal fails (it would bless it)."""
    return Conflict(
        f"user {user_id}'s role, jurisdiction or state fails its integrity check (changed "
        f"outside the application?): check it, then `warroom access seal --user {username}`"
    )


def reseal(session: Session, users: Iterable[User], actor: Actor) -> list[User]:
    """Seal ``users`` as they are now (a person checked them), audited; return them."""
    ring = key_ring_of(session)
    done = list(users)
    for user in done:
        seal(ring, user)
        record_audit(session, actor=actor, action="access.seal", target_type="user",
                     target_id=user.id, after=_fields(user))  # fmt: skip
    return done


def _old_fields(user: User) -> tuple[dict[str, Any], bytes | None]:
    """Return ``user``'s sealed fields and seal as the database holds them."""
    state = inspect(user)
    committed = {name: state.attrs[name].history for name in (*SEALED, "authority_mac")}
    old = {name: (h.deleted[0] if h.deleted else getattr(user, name))
           for name, h in committed.items()}  # fmt: skip
    return old, old.pop("authority_mac")


@event.listens_for(Session, "before_flush")
def _seal_changed_users(session: Session, _context: UOWTransaction, _instances: object) -> None:
    """Seal new users and users whose authority changed; refuse to bless a broken seal."""
    changed = [user for user in session.new if isinstance(user, User)]
    for user in session.dirty:
        if isinstance(user, User) and any(inspect(user).attrs[name].history.has_changes()
                                          for name in SEALED):  # fmt: skip
            old, mac = _old_fields(user)
            if not _intact(key_ring_of(session), user.id, old, mac):
                raise tampered_conflict(user.id, old["username"])
            changed.append(user)
    if not changed:
        return
    ring = key_ring_of(session)
    for user in changed:
        if user.id is None:  # the seal covers the id, so it is drawn before the insert
            user.id = int(session.connection().scalar(_NEXT_USER_ID))
        seal(ring, user)
