"""The operations centre (运维中心): users, live sessions, recent errors, imports, backups.

Users and sessions are for the roles that manage accounts (admin, security_admin); the
rest is the admin's. A revoked session ends at once in this worker; other workers
forget it within their session cache's time (``WARROOM_SECURITY_SESSION_CACHE_SECONDS``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from api.access import requires, requires_any
from api.deps import CurrentActor, SessionDep, SettingsDep, TokenDep
from api.schemas.admin import (
    BackupPublic,
    BackupsPublic,
    ImportJobAdminView,
    ImportJobsPublic,
    LiveSessionPublic,
    LiveSessionsPublic,
    RecentErrorPublic,
    RecentErrorsPublic,
    UserAdminView,
    UsersPublic,
)
from layers.accounts.admin import list_live_sessions, list_users, revoke_session
from layers.accounts.roles import Permission, Role
from layers.accounts.service import hash_token
from layers.imports.service import list_jobs
from layers.ops.backups import BackupState, list_backups

ACCOUNT_READERS = requires(Permission.USERS_READ)
SESSION_ENDERS = requires_any(Permission.USERS_MANAGE, Permission.ROLES_MANAGE)
OPERATORS = requires(Permission.OPERATIONS)
router = APIRouter(prefix="/api/admin", tags=["operations"])
LimitQuery = Annotated[int, Query(ge=1, le=500)]


@router.get("/users", dependencies=[Depends(ACCOUNT_READERS)])
def list_users_route(
    session: SessionDep, actor: CurrentActor, settings: SettingsDep,
    search: Annotated[str | None, Query(max_length=64, description="part of the username")] = None,
    role: Role | None = None, limit: LimitQuery = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> UsersPublic:  # fmt: skip
    """List users by name with role, jurisdiction, active, locked and last login."""
    users, count = list_users(session=session, actor=actor, policy=settings.security,
                              search=search, role=role, limit=limit, offset=offset)  # fmt: skip
    return UsersPublic(data=[UserAdminView.model_validate(u) for u in users], count=count)


@router.get("/sessions", dependencies=[Depends(ACCOUNT_READERS)])
def list_sessions(
    session: SessionDep, actor: CurrentActor, settings: SettingsDep, token: TokenDep,
    user_id: Annotated[int | None, Query(ge=1)] = None, limit: LimitQuery = 200,
) -> LiveSessionsPublic:  # fmt: skip
    """List the live sessions (user, client, source, created, last seen), latest first."""
    live = list_live_sessions(session=session, actor=actor, policy=settings.security,
                              user_id=user_id, limit=limit)  # fmt: skip
    mine = hash_token(token)
    data = [LiveSessionPublic.model_validate(s).model_copy(update={"current": s.token_hash == mine})
            for s in live]  # fmt: skip
    return LiveSessionsPublic(data=data, count=len(data))


@router.delete("/sessions/{session_id}", dependencies=[Depends(SESSION_ENDERS)], status_code=204)
def delete_session(
    session_id: int, request: Request, session: SessionDep, actor: CurrentActor,
    settings: SettingsDep,
) -> None:  # fmt: skip
    """Revoke a live session: its next request is 401 (audited)."""
    digest = revoke_session(session=session, actor=actor, policy=settings.security,
                            session_id=session_id)  # fmt: skip
    request.app.state.session_cache.drop(digest)


@router.get("/errors", dependencies=[Depends(OPERATORS)])
def list_errors(
    request: Request, actor: CurrentActor, limit: LimitQuery = 100
) -> RecentErrorsPublic:
    """List this worker's latest 5xx answers with request id, route, time and message."""
    actor.require(Permission.OPERATIONS)
    errors = request.app.state.recent_errors.latest(limit)
    return RecentErrorsPublic(data=[RecentErrorPublic.model_validate(e) for e in errors],
                              count=len(errors))  # fmt: skip


@router.get("/imports", dependencies=[Depends(OPERATORS)])
def list_imports(
    session: SessionDep, actor: CurrentActor, limit: LimitQuery = 50
) -> ImportJobsPublic:
    """List the latest import jobs of every user with their status."""
    jobs = list_jobs(session=session, actor=actor, limit=limit)
    data = [ImportJobAdminView.model_validate(job).model_copy(
                update={"has_rejects": job.reject_file is not None}) for job in jobs]  # fmt: skip
    return ImportJobsPublic(data=data, count=len(data))


def _backup_public(state: BackupState) -> BackupPublic:
    manifest = state.manifest
    return BackupPublic(
        name=state.name, status=state.status, detail=state.detail,
        created_at=manifest.created_at if manifest else None,
        database=manifest.database if manifest else None,
        schema_revision=manifest.schema_revision if manifest else None,
        dump_bytes=manifest.dump_bytes if manifest else None,
        rows=sum(manifest.row_counts.values()) if manifest else None,
        signed=bool(manifest and manifest.signature),
    )  # fmt: skip


@router.get("/backups", dependencies=[Depends(OPERATORS)])
def list_backups_route(
    actor: CurrentActor, settings: SettingsDep, request: Request, limit: LimitQuery = 60
) -> BackupsPublic:
    """List the backups in the configured directory, each verified as a restore would."""
    directory = settings.ops.backup_dir
    states = list_backups(actor=actor, directory=directory, limit=limit,
                          verifier=request.app.state.signer)  # fmt: skip
    if directory is None:
        detail: str | None = "no backup directory configured: set WARROOM_OPS_BACKUP_DIR"
    else:
        detail = None if directory.is_dir() else f"{directory} does not exist (yet)"
    return BackupsPublic(directory=directory and str(directory), detail=detail, count=len(states),
                         data=[_backup_public(state) for state in states])  # fmt: skip
