"""Schemas of the operations centre: users, live sessions, recent errors, imports, backups."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from api.schemas.imports import ImportJobPublic


class UserAdminView(BaseModel):
    """A user's account and state as an administrator sees it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    role: str
    jurisdiction: str | None
    jurisdiction_name: str | None
    is_active: bool
    locked: bool
    last_login_at: datetime | None
    created_at: datetime


class UsersPublic(BaseModel):
    """A page of users and how many match in all."""

    data: list[UserAdminView]
    count: int


class LiveSessionPublic(BaseModel):
    """A session that still works, with who holds it and from where."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    user_id: int
    username: str
    role: str
    source: str
    client: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    current: bool = False  # the session of the request that asks


class LiveSessionsPublic(BaseModel):
    """Live sessions, most recently seen first."""

    data: list[LiveSessionPublic]
    count: int


class RecentErrorPublic(BaseModel):
    """A 5xx answer of this worker: find its log lines by ``request_id``."""

    model_config = ConfigDict(from_attributes=True)

    at: datetime
    request_id: str
    method: str
    route: str
    status: int
    message: str


class RecentErrorsPublic(BaseModel):
    """The latest server errors of the worker that answers, newest first."""

    data: list[RecentErrorPublic]
    count: int


class ImportJobAdminView(ImportJobPublic):
    """An import job with who started it."""

    actor_name: str


class ImportJobsPublic(BaseModel):
    """The latest import jobs of every user, newest first."""

    data: list[ImportJobAdminView]
    count: int


class BackupPublic(BaseModel):
    """A backup directory: verified as a restore would, or why it would be refused."""

    name: str
    status: str
    detail: str | None
    created_at: str | None
    database: str | None
    schema_revision: str | None
    dump_bytes: int | None
    rows: int | None
    signed: bool


class BackupsPublic(BaseModel):
    """The newest backups in the configured directory (``WARROOM_OPS_BACKUP_DIR``)."""

    directory: str | None
    detail: str | None
    data: list[BackupPublic]
    count: int
