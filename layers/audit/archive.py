"""Archive the audit log: every record before a date, to a file with an SM3 digest and a seal.

The file is JSON Lines, one record a line with every column (its chain hashes too), so
the archived part of the chain can be checked again with the key. Beside it,
``<file>.seal.json`` names the range, the row count, the file's SM3 digest and the head
(last id and chain hash), sealed with HMAC-SM3 under the key ring's audit key.

Archiving deletes nothing: the application never deletes audit records (its database
role cannot), so at least 180 days - in fact all of them - stay in the database.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from layers.accounts.roles import Permission
from layers.accounts.scope import Actor
from layers.audit.models import AuditRecord
from layers.audit.reading import AuditQuery, record_export
from layers.crypto.keys import hmac_sm3, key_ring_of
from layers.errors import Conflict

FORMAT = "warroom-audit-archive"
_BATCH = 5_000
_COLUMNS = [column.name for column in AuditRecord.__table__.columns]


@dataclass(frozen=True)
class Archive:
    """What an archive holds: its file, seal, rows, first and last id, digest."""

    path: Path
    seal_path: Path
    rows: int
    first_id: int | None
    last_id: int | None
    sm3: str


def _line(record: AuditRecord) -> bytes:
    values: dict[str, Any] = {name: getattr(record, name) for name in _COLUMNS}
    values["at"] = record.at.astimezone(UTC).isoformat()
    return json.dumps(values, ensure_ascii=False, sort_keys=True).encode() + b"\n"


def seal_of(document: dict[str, Any], key: bytes) -> str:
    """Return the HMAC-SM3 of a seal document (without its ``mac``) under ``key``, in hex."""
    content = {name: value for name, value in document.items() if name != "mac"}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":")).encode()
    return hmac_sm3(key, canonical).hex()


def _new_file(path: Path) -> int:
    """Open a new file readable by its owner alone; refuse one that exists."""
    try:
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise Conflict(f"{path} exists: choose a new file for the archive") from None


def archive_audit(*, session: Session, actor: Actor, before: datetime, path: Path) -> Archive:
    """Write every audit record before ``before`` to ``path`` and its seal beside it; audited."""
    actor.require(Permission.AUDIT_READ)
    seal_path = path.with_name(path.name + ".seal.json")
    ring = key_ring_of(session)
    digest, rows, first_id, last = hashlib.new("sm3"), 0, None, None
    statement = select(AuditRecord).where(AuditRecord.at < before).order_by(AuditRecord.id)
    with os.fdopen(_new_file(path), "wb") as out:
        for record in session.scalars(statement.execution_options(yield_per=_BATCH)):
            line = _line(record)
            digest.update(line)
            out.write(line)
            rows, first_id, last = rows + 1, first_id or record.id, record
    document: dict[str, Any] = {
        "format": FORMAT, "file": path.name, "before": before.isoformat(),
        "created_at": datetime.now(UTC).isoformat(), "rows": rows, "first_id": first_id,
        "last_id": last.id if last else None, "head_hash": last.chain_hash if last else None,
        "sm3": digest.hexdigest(), "key_version": ring.current,
    }  # fmt: skip
    document["mac"] = seal_of(document, ring.key_for("audit", ring.current))
    with os.fdopen(_new_file(seal_path), "w") as stream:
        json.dump(document, stream, indent=2)
    record_export(session=session, actor=actor, query=AuditQuery(until=before), rows=rows,
                  sm3=document["sm3"], action="audit.archive")  # fmt: skip
    return Archive(path, seal_path, rows, first_id, document["last_id"], document["sm3"])
