"""Refused logins, counted from the audit log: per account and source address, and per source.

The audit log already records every login with its client (which starts with the
source address), so the count is shared by every worker and survives restarts
without state of its own. Keying the account lock on (account, source) keeps anyone
from locking a user out from elsewhere; the per-source count stops one address from
spraying passwords across many accounts. A wrong current password given to change it
counts like a refused login, so a stolen session cannot guess it either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from layers.audit.models import AuditRecord

LOGIN = "auth.login"
PASSWORD_CHANGE = "auth.password_change"
_CREDENTIAL_CHECKS = (LOGIN, PASSWORD_CHANGE)
# Class key of the two-key advisory locks serialising the logins of one source address.
_SOURCE_LOCK = 0x4C4F47


@dataclass(frozen=True)
class Refusals:
    """Refused logins within the lockout window."""

    account: int  # of this account from this source since its last success from there
    source: int  # from this source, any name


def hold_source(session: Session, source: str) -> None:
    """Serialise the logins from ``source`` until the caller's transaction ends."""
    session.execute(select(func.pg_advisory_xact_lock(_SOURCE_LOCK, func.hashtext(source))))


def recent_refusals(
    session: Session, *, source: str, user_id: int | None, since: datetime
) -> Refusals:
    """Return the refused logins from ``source`` (and of ``user_id`` from it) after ``since``."""
    logins = (
        AuditRecord.action.in_(_CREDENTIAL_CHECKS)
        & (AuditRecord.at > since)
        & (func.split_part(AuditRecord.client, " ", 1) == source)
    )
    account = AuditRecord.target_id == str(user_id)
    last_success = (
        select(func.coalesce(func.max(AuditRecord.id), 0))
        .where(logins, account, AuditRecord.result == "ok")
        .scalar_subquery()
    )
    of_account = func.count().filter(account, AuditRecord.id > last_success)
    row = session.execute(
        select(of_account, func.count()).where(logins, AuditRecord.result == "denied")
    ).one()
    return Refusals(account=row[0] if user_id is not None else 0, source=row[1])
