"""Run an import in a background thread and keep its job row up to date."""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import Connection
from sqlalchemy.orm import Session, sessionmaker

from importers.pipeline import run_import
from importers.report import ImportRequest
from layers.accounts.scope import Actor
from layers.database import transaction
from layers.errors import WarroomError
from layers.imports.service import fail_job, finish_job, hold_job, release_job, set_progress

logger = logging.getLogger(__name__)
_PROGRESS_EVERY_S = 0.5


def run_job(
    *, session_factory: sessionmaker[Session], job_id: str, request: ImportRequest, actor: Actor,
    max_vertices: int, alive: Connection,
) -> None:  # fmt: skip
    """Run one import job to its end, recording progress, report or error.

    ``alive`` holds the job's advisory lock (``start_job``); it is closed at the end.
    """
    last = 0.0

    def progress(phase: str, done: int, total: int) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= _PROGRESS_EVERY_S or done == total:
            last = now
            with transaction(session_factory) as session:
                set_progress(session=session, job_id=job_id, phase=phase, done=done, total=total)

    report = None
    try:
        progress("read", 0, 0)
        report = run_import(session_factory=session_factory, request=request, actor=actor,
                            max_vertices=max_vertices, progress=progress)  # fmt: skip
    except WarroomError as exc:
        error = exc.message
    except Exception:  # a job must always end in a state the user can read
        logger.exception("import job %s failed", job_id)
        error = "internal error while importing; see the server log"
    finally:
        request.path.unlink(missing_ok=True)  # the reject file stays for download
    try:
        with transaction(session_factory) as session:
            if report is None:
                fail_job(session=session, job_id=job_id, error=error)
            else:
                finish_job(session=session, job_id=job_id, report=report.as_dict(),
                           reject_file=report.reject_file)  # fmt: skip
    finally:
        release_job(alive, job_id)  # only now may a reader take the job for interrupted
        alive.close()


def start_job(
    *, session_factory: sessionmaker[Session], job_id: str, request: ImportRequest, actor: Actor,
    max_vertices: int,
) -> threading.Thread:  # fmt: skip
    """Start ``run_job`` in a daemon thread and return the thread.

    The job's lock is taken before this returns, so the job never looks abandoned.
    """
    engine = session_factory.kw["bind"]
    alive = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    hold_job(alive, job_id)
    thread = threading.Thread(
        target=run_job, name=f"import-{job_id}", daemon=True,
        kwargs={"session_factory": session_factory, "job_id": job_id, "request": request,
                "actor": actor, "max_vertices": max_vertices, "alive": alive},
    )  # fmt: skip
    thread.start()
    return thread
