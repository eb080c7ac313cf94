"""Schemas of the audit log as the auditor reads it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class AuditRecordPublic(BaseModel):
    """One audit record: when, who in which role from where, what on which object, result."""

    id: int
    at: datetime
    actor_id: int | None
    actor_name: str
    actor_role: str | None
    source: str | None
    client: str | None
    action: str
    target_type: str
    target_id: str | None
    result: str
    detail: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    key_version: int | None
    chain_hash: str


class AuditPagePublic(BaseModel):
    """A page of audit records, newest first; ``next`` is the cursor of the next page."""

    data: list[AuditRecordPublic]
    count: int
    next: str | None


class ChainStatusPublic(BaseModel):
    """What a walk along the audit chain found: intact, or the first record that breaks it."""

    intact: bool
    checked: int
    first_bad_id: int | None
    problem: str | None
    keyed_from: int | None
    head_id: int | None
    head_hash: str | None
