"""The audit log for the auditor (三权分立): search, CSV export with its SM3, chain check.

Only the ``auditor`` role reads the audit log (``audit:read``); an administrator
cannot, and nobody can change or delete it through the application (its database role
may only read and append). Every read, export and check is itself audited.
"""

from __future__ import annotations

from datetime import UTC, datetime
from tempfile import SpooledTemporaryFile
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime
from starlette.background import BackgroundTask

from api.access import requires
from api.audit_csv import write_audit_csv
from api.deps import CurrentActor, SessionDep, SettingsDep
from api.schemas.audit import AuditPagePublic, AuditRecordPublic, ChainStatusPublic
from layers.accounts.roles import Permission
from layers.audit.reading import (
    AuditQuery,
    count_audit,
    iter_audit,
    record_export,
    search_audit,
    source_of,
    verify_audit,
)
from layers.errors import InvalidInput

AUDITORS = requires(Permission.AUDIT_READ)
router = APIRouter(prefix="/api/audit", tags=["audit"], dependencies=[Depends(AUDITORS)])

EXPORT_MAX_ROWS = 1_000_000  # a year of a busy bureau; narrow the time range beyond
_SPOOL_IN_MEMORY = 8 * 1024**2
_CHUNK = 64 * 1024
Text = Annotated[str | None, Query(max_length=64)]


def audit_query(
    since: Annotated[AwareDatetime | None, Query(description="from this instant on")] = None,
    until: Annotated[AwareDatetime | None, Query(description="before this instant")] = None,
    user: Text = None, action: Annotated[str | None, Query(
        max_length=64, description="exact, or a prefix ending in * (auth.*)")] = None,
    target_type: Text = None, target_id: Text = None,
    result: Annotated[str | None, Query(max_length=32)] = None,
    source: Annotated[str | None, Query(max_length=64, description="the caller's address")] = None,
) -> AuditQuery:  # fmt: skip
    """Return the audit filters of the query string."""
    return AuditQuery(since, until, user, action, target_type, target_id, result, source)


AuditQueryDep = Annotated[AuditQuery, Depends(audit_query)]


@router.get("")
def list_audit_records(
    session: SessionDep, actor: CurrentActor, query: AuditQueryDep,
    limit: Annotated[int, Query(ge=1, le=1_000)] = 100,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> AuditPagePublic:  # fmt: skip
    """Search the audit log, newest first, a page at a time (follow ``next``)."""
    page = search_audit(session=session, actor=actor, query=query, limit=limit, cursor=cursor)
    data = [
        AuditRecordPublic(
            id=r.id, at=r.at, actor_id=r.actor_id, actor_name=r.actor_name,
            actor_role=r.actor_role, source=source_of(r.client), client=r.client,
            action=r.action, target_type=r.target_type, target_id=r.target_id, result=r.result,
            detail=r.detail, before=r.before, after=r.after, key_version=r.key_version,
            chain_hash=r.chain_hash,
        )
        for r in page.records
    ]  # fmt: skip
    return AuditPagePublic(data=data, count=len(data), next=page.next_cursor)


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "CSV, UTF-8 with a BOM"}},
)
def export_audit_records(
    session: SessionDep, actor: CurrentActor, settings: SettingsDep, query: AuditQueryDep
) -> StreamingResponse:
    """Return the matching records as a CSV file for Excel; ``X-Content-SM3`` is its digest."""
    total = count_audit(session=session, actor=actor, query=query)
    if total > EXPORT_MAX_ROWS:
        raise InvalidInput(f"{total:,} records match, more than {EXPORT_MAX_ROWS:,} an export "
                           "holds: narrow the time range (since, until)")  # fmt: skip
    spool = SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115 (closed after sending)
    records = iter_audit(session=session, actor=actor, query=query)
    rows, sm3 = write_audit_csv(records, spool, settings.zone)
    record_export(session=session, actor=actor, query=query, rows=rows, sm3=sm3,
                  action="audit.export")  # fmt: skip
    spool.seek(0)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    headers = {"Content-Disposition": f'attachment; filename="audit-{stamp}.csv"',
               "X-Content-SM3": sm3, "X-Export-Count": str(rows)}  # fmt: skip
    chunks = iter(lambda: spool.read(_CHUNK), b"")
    return StreamingResponse(chunks, media_type="text/csv; charset=utf-8", headers=headers,
                             background=BackgroundTask(spool.close))  # fmt: skip


@router.get("/verify")
def verify_audit_chain_route(session: SessionDep, actor: CurrentActor) -> ChainStatusPublic:
    """Walk the whole audit chain with the key and say whether, and where, it breaks."""
    status = verify_audit(session=session, actor=actor)
    return ChainStatusPublic(
        intact=status.intact, checked=status.checked, first_bad_id=status.first_bad_id,
        problem=status.problem, keyed_from=status.keyed_from, head_id=status.head_id,
        head_hash=status.head_hash,
    )  # fmt: skip
