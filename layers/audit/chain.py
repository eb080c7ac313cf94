"""The audit log's chain: each record sealed with HMAC-SM3 over the record before it.

A record's ``chain_hash`` is HMAC-SM3 under the key ring's audit subkey of the record's
``key_version``, over the previous record's ``chain_hash`` and this record's canonical
content (every column but the hashes). The database never holds the key, so nobody who
can only write the table - the application's role, the owner, whoever holds a copy of
the database - can make a changed, inserted, deleted or reordered record verify;
``verify_chain`` names the first record that does not.

Records written before migration 0021 have no key version: they are chained with plain
SM3, which anyone can recompute, and are kept as they were (re-chaining them with the
key would bless whatever they hold by then). The first keyed record seals the last plain
record's hash, so from then on a change to any plain record breaks the keyed chain
after it; a plain record after a keyed one is a forgery.

Records cut from the end leave a shorter chain that still verifies: that shows only
against a head noted earlier (``warroom audit verify --expect-head ID:HASH``, or the head
an archive names), which must still be in the chain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from layers.audit.models import AuditRecord
from layers.crypto.keys import KeyRing, hmac_sm3
from layers.errors import KeySourceError

__all__ = ["GENESIS_HASH", "ChainStatus", "Sealed", "keyed_hash", "plain_hash", "verify_chain"]

GENESIS_HASH = "0" * 64
# What the plain SM3 chain (before 0021) covers; the keyed chain covers every column.
_PLAIN_FIELDS = ("at", "actor_id", "actor_name", "action", "target_type", "target_id",
                 "result", "detail", "before", "after")  # fmt: skip
_KEYED_FIELDS = (*_PLAIN_FIELDS, "id", "actor_role", "client", "key_version")
_BATCH = 5_000


class Sealed(Protocol):
    """The columns of an audit record (an ORM object or a row of the table)."""

    id: int
    at: Any
    actor_id: int | None
    actor_name: str
    actor_role: str | None
    action: str
    target_type: str
    target_id: str | None
    result: str
    detail: str | None
    client: str | None
    before: Any
    after: Any
    key_version: int | None
    prev_hash: str
    chain_hash: str


def _as_stored(value: Any) -> Any:
    """Return JSON ``value`` as jsonb gives it back: 1e16 comes back as the integer."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _as_stored(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_stored(item) for item in value]
    return value


def _content(record: Sealed, fields: Iterable[str], *, stored: bool) -> bytes:
    values = {name: getattr(record, name) for name in fields}
    values["at"] = record.at.astimezone(UTC).isoformat()
    if stored:
        values["before"], values["after"] = _as_stored(record.before), _as_stored(record.after)
    return json.dumps(values, sort_keys=True, ensure_ascii=False, default=str).encode()


def plain_hash(prev_hash: str, record: Sealed) -> str:
    """Return the plain SM3 chain hash of a record written before the key (migration 0021)."""
    content = _content(record, _PLAIN_FIELDS, stored=False)
    return hashlib.new("sm3", prev_hash.encode() + content).hexdigest()


def keyed_hash(prev_hash: str, record: Sealed, key: bytes) -> str:
    """Return the HMAC-SM3 chain hash of ``record`` following ``prev_hash`` under ``key``."""
    return hmac_sm3(key, prev_hash.encode() + _content(record, _KEYED_FIELDS, stored=True)).hex()


@dataclass(frozen=True)
class ChainStatus:
    """What a walk along the chain found: intact, or the first record that breaks it."""

    checked: int
    first_bad_id: int | None = None
    problem: str | None = None
    keyed_from: int | None = None  # the first record sealed with the key
    head_id: int | None = None  # the last record checked, and its hash
    head_hash: str | None = None

    @property
    def intact(self) -> bool:
        """Return whether every record checked verified."""
        return self.first_bad_id is None and self.problem is None


def _problem(record: Sealed, prev_hash: str, keyed: bool, ring: KeyRing) -> str | None:
    """Return why ``record`` does not follow ``prev_hash``, or None if it does."""
    if record.prev_hash != prev_hash:
        return "its predecessor is not the record before it: records were deleted or reordered"
    if record.key_version is None:
        if keyed:
            return "an unkeyed record after the keyed chain began: inserted by hand"
        expected = plain_hash(prev_hash, record)
    else:
        try:
            key = ring.key_for("audit", record.key_version)
        except KeySourceError:
            return f"its key version {record.key_version} is not in the key ring"
        expected = keyed_hash(prev_hash, record, key)
    if expected != record.chain_hash:
        return "its content does not match its seal: the record was changed"
    return None


def verify_chain(
    session: Session, ring: KeyRing, *, expect_head: tuple[int, str] | None = None
) -> ChainStatus:
    """Walk the audit log in id order and return where its chain breaks, if it does.

    ``expect_head`` is an (id, chain_hash) noted earlier: it must still be in the chain,
    which catches records cut from the end.
    """
    table = AuditRecord.__table__
    rows = session.execute(select(table).order_by(table.c.id).execution_options(yield_per=_BATCH))
    prev, keyed_from, head_id, checked = GENESIS_HASH, None, None, 0
    head_seen = expect_head is None
    for record in rows:
        problem = _problem(record, prev, keyed_from is not None, ring)
        if problem is None and expect_head is not None and record.id == expect_head[0]:
            if record.chain_hash != expect_head[1]:
                problem = "it is not the head noted earlier: the chain was rewritten"
            head_seen = True
        if problem is not None:
            return ChainStatus(checked, record.id, f"record {record.id}: {problem}", keyed_from,
                               head_id, prev if head_id else None)  # fmt: skip
        if keyed_from is None and record.key_version is not None:
            keyed_from = record.id
        prev, head_id, checked = record.chain_hash, record.id, checked + 1
    head = prev if head_id else None
    if not head_seen:
        assert expect_head is not None
        gone = f"record {expect_head[0]}, the head noted earlier, is gone: records were cut"
        return ChainStatus(checked, None, gone, keyed_from, head_id, head)
    return ChainStatus(checked, None, None, keyed_from, head_id, head)
