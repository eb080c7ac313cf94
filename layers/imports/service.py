"""Domain functions of import jobs: create, read (owner or admin), progress and outcome."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from layers.accounts.roles import Role
from layers.accounts.scope import Actor
from layers.errors import NotFound
from layers.imports.models import ImportJob


def create_job(
    *, session: Session, actor: Actor, layer: str, source: str, work_dir: str
) -> ImportJob:
    """Record a queued import of ``source`` into ``layer`` after checking the actor may write it."""
    actor.require_layer_write(layer)
    job = ImportJob(id=uuid.uuid4().hex, actor_id=actor.user_id, actor_name=actor.username,
                    layer=layer, source=source[:300], status="queued", done=0, total=0,
                    work_dir=work_dir)  # fmt: skip
    session.add(job)
    session.flush()
    return job


def get_job(*, session: Session, job_id: str, actor: Actor) -> ImportJob:
    """Return a job its starter (or an admin) may see, else raise ``NotFound``."""
    job = session.get(ImportJob, job_id)
    if job is None or (job.actor_id != actor.user_id and actor.role is not Role.ADMIN):
        raise NotFound(f"no import job {job_id!r}")
    return job


def _set(session: Session, job_id: str, **values: Any) -> None:
    session.execute(
        update(ImportJob)
        .where(ImportJob.id == job_id)
        .values(updated_at=datetime.now(UTC), **values)
    )


def set_progress(*, session: Session, job_id: str, phase: str, done: int, total: int) -> None:
    """Record how far a running job got."""
    _set(session, job_id, status="running", phase=phase, done=done, total=total)


def finish_job(
    *, session: Session, job_id: str, report: dict[str, Any], reject_file: str | None
) -> None:
    """Record a job's report; it is finished whether rows loaded, were refused or dry-run."""
    _set(session, job_id, status="finished", phase="done", report=report, reject_file=reject_file)


def fail_job(*, session: Session, job_id: str, error: str) -> None:
    """Record why a job failed (nothing was written)."""
    _set(session, job_id, status="failed", error=error[:1000])
