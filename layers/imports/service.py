"""Domain functions of import jobs: create, read (owner or admin), progress and outcome.

A running job's worker holds a PostgreSQL advisory lock named after the job on a
connection of its own for as long as it runs. A job that says it is queued or running
while nobody holds its lock lost its worker (the server stopped or was killed); it is
reported as failed, which is the truth: an import writes nothing until it commits.
"""

from __future__ import annotations

import uuid
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select, text, update
from sqlalchemy.orm import Session

from layers.accounts.roles import Permission, Role
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


INTERRUPTED = ("the server stopped while this import ran; nothing was written, "
               "import the file again")  # fmt: skip
_UNFINISHED = ("queued", "running")


def _lock_key(job_id: str) -> int:
    return zlib.crc32(f"import-job:{job_id}".encode())


def hold_job(connection: Connection, job_id: str) -> None:
    """Mark the job as alive until ``release_job`` (or until the connection dies)."""
    connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _lock_key(job_id)})


def release_job(connection: Connection, job_id: str) -> None:
    """Undo ``hold_job`` (a pooled connection keeps session locks when it is returned)."""
    connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _lock_key(job_id)})


def _orphaned(session: Session, job: ImportJob) -> bool:
    """Return whether an unfinished job has no worker (taking and dropping its free lock)."""
    key = {"k": _lock_key(job.id)}
    if not session.scalar(text("SELECT pg_try_advisory_lock(:k)"), key):
        return False
    session.execute(text("SELECT pg_advisory_unlock(:k)"), key)
    return True


def get_job(*, session: Session, job_id: str, actor: Actor) -> ImportJob:
    """Return a job its starter (or an admin) may see, else raise ``NotFound``.

    A job whose worker is gone is recorded as failed before it is returned.
    """
    job = session.get(ImportJob, job_id)
    if job is None or (job.actor_id != actor.user_id and actor.role is not Role.ADMIN):
        raise NotFound(f"no import job {job_id!r}")
    if job.status in _UNFINISHED and _orphaned(session, job):
        fail_job(session=session, job_id=job.id, error=INTERRUPTED)
        session.refresh(job)
    return job


def list_jobs(*, session: Session, actor: Actor, limit: int) -> list[ImportJob]:
    """Return the latest import jobs of every user (the operations centre's view), newest first.

    Unfinished jobs whose worker is gone are recorded as failed first, as ``get_job`` does.
    """
    actor.require(Permission.OPERATIONS)
    jobs = list(session.scalars(select(ImportJob).order_by(ImportJob.created_at.desc(),
                                                           ImportJob.id).limit(limit)))  # fmt: skip
    for job in jobs:
        if job.status in _UNFINISHED and _orphaned(session, job):
            fail_job(session=session, job_id=job.id, error=INTERRUPTED)
            session.refresh(job)
    return jobs


def expire_jobs(*, session: Session, older_than: timedelta) -> list[str]:
    """Forget the files of jobs that ended before ``older_than`` ago; return their folders.

    Their rows (and reports) stay; their reject files are gone from then on.
    """
    cutoff = datetime.now(UTC) - older_than
    ended = (ImportJob.status.in_(("finished", "failed")) & (ImportJob.updated_at < cutoff)
             & (ImportJob.work_dir != ""))  # fmt: skip
    folders = list(session.scalars(select(ImportJob.work_dir).where(ended)))
    session.execute(update(ImportJob).where(ended).values(work_dir="", reject_file=None))
    return folders


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
