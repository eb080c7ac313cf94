"""Read the audit log, for the auditor only: search, export, verify; each read is audited too."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from layers.accounts.roles import Permission
from layers.accounts.scope import Actor
from layers.audit.chain import ChainStatus, verify_chain
from layers.audit.models import AuditRecord
from layers.audit.service import record_audit
from layers.crypto.keys import key_ring_of
from layers.cursors import is_bigint, pack_cursor, unpack_cursor
from layers.errors import InvalidInput

AUDIT_LOG = "audit_log"
_BATCH = 2_000


@dataclass(frozen=True)
class AuditQuery:
    """Which records: a time range [since, until), and exact user, action, target, result, source.

    ``action`` ending in ``*`` matches by prefix (``auth.*``).
    """

    since: datetime | None = None
    until: datetime | None = None
    user: str | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    result: str | None = None
    source: str | None = None

    def described(self) -> str:
        """Return the filters that are set, for the audit record of the read."""
        given = {name: value for name, value in asdict(self).items() if value is not None}
        return ", ".join(f"{name}={value}" for name, value in given.items()) or "everything"


@dataclass(frozen=True)
class AuditPage:
    """A page of records, newest first, and the cursor of the next (None on the last)."""

    records: list[AuditRecord]
    next_cursor: str | None


def source_of(client: str | None) -> str | None:
    """Return the network address at the start of a record's ``client`` ("addr agent")."""
    return client.split(" ", 1)[0] if client else None


# The network address at the start of a record's client ("addr agent"), in SQL.
_SOURCE = func.split_part(func.coalesce(AuditRecord.client, ""), " ", 1)


def _where(query: AuditQuery) -> list[ColumnElement[bool]]:
    """Return one condition per filter that is set."""
    record = AuditRecord
    equal = ((record.actor_name, query.user), (record.target_type, query.target_type),
             (record.target_id, query.target_id), (record.result, query.result),
             (_SOURCE, query.source))  # fmt: skip
    conditions = [column == value for column, value in equal if value is not None]
    if query.since is not None:
        conditions.append(record.at >= query.since)
    if query.until is not None:
        conditions.append(record.at < query.until)
    if query.action is not None and query.action.endswith("*"):
        conditions.append(record.action.startswith(query.action[:-1], autoescape=True))
    elif query.action is not None:
        conditions.append(record.action == query.action)
    return conditions


def _check(query: AuditQuery) -> None:
    if query.since and query.until and query.until <= query.since:
        raise InvalidInput("the time range ends before it starts: until must follow since")


def search_audit(
    *, session: Session, actor: Actor, query: AuditQuery, limit: int, cursor: str | None = None
) -> AuditPage:
    """Return a page of matching records, newest first (keyset: ``next_cursor``); audited."""
    actor.require(Permission.AUDIT_READ)
    _check(query)
    statement = select(AuditRecord).where(*_where(query))
    if cursor is not None:
        (before,) = unpack_cursor(cursor, 1)
        if not is_bigint(before):
            raise InvalidInput("invalid cursor: use the 'next' link of the previous page")
        statement = statement.where(AuditRecord.id < before)
    rows = list(session.scalars(statement.order_by(AuditRecord.id.desc()).limit(limit + 1)))
    page, more = rows[:limit], len(rows) > limit
    record_audit(session, actor=actor, action="audit.search", target_type=AUDIT_LOG,
                 detail=f"{query.described()}; page of {len(page)}"[:500])  # fmt: skip
    return AuditPage(page, pack_cursor([page[-1].id]) if more else None)


def count_audit(*, session: Session, actor: Actor, query: AuditQuery) -> int:
    """Return how many records match (for the cap of an export)."""
    actor.require(Permission.AUDIT_READ)
    _check(query)
    statement = select(func.count()).select_from(AuditRecord).where(*_where(query))
    return int(session.scalar(statement) or 0)


def iter_audit(*, session: Session, actor: Actor, query: AuditQuery) -> Iterator[AuditRecord]:
    """Yield every matching record, oldest first, for an export (audit it with its digest)."""
    actor.require(Permission.AUDIT_READ)
    _check(query)
    statement = select(AuditRecord).where(*_where(query)).order_by(AuditRecord.id)
    yield from session.scalars(statement.execution_options(yield_per=_BATCH))


def record_export(
    *, session: Session, actor: Actor, query: AuditQuery, rows: int, sm3: str, action: str
) -> None:
    """Audit an export or archive of the audit log: what it held and the digest of its file."""
    record_audit(session, actor=actor, action=action, target_type=AUDIT_LOG,
                 detail=f"{query.described()}; {rows} records"[:500],
                 after={"rows": rows, "sm3": sm3})  # fmt: skip


def verify_audit(
    *, session: Session, actor: Actor, expect_head: tuple[int, str] | None = None
) -> ChainStatus:
    """Walk the whole chain with the session's key ring and say where it breaks; audited."""
    actor.require(Permission.AUDIT_READ)
    status = verify_chain(session, key_ring_of(session), expect_head=expect_head)
    record_audit(session, actor=actor, action="audit.verify", target_type=AUDIT_LOG,
                 result="ok" if status.intact else "broken",
                 detail=(status.problem or f"{status.checked} records intact")[:500])  # fmt: skip
    return status
