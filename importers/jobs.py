"""Run an import in a process of its own and keep its job row up to date.

An import's readers and frames can take gigabytes; run in a thread of the server, that
memory stayed with the server after the job ended (glibc keeps freed arenas). Each
job runs in a child process instead, which gives all of it back when it exits. The
children come from a fork server that has the importers loaded, so a job starts in
milliseconds without copying the server's threads or connections. The server holds
the job's advisory lock while its child runs and records a failure if the child dies
without a word (killed, out of memory).
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from multiprocessing.context import ForkServerContext

from sqlalchemy import Connection
from sqlalchemy.orm import Session, sessionmaker

from importers.pipeline import run_import
from importers.report import ImportRequest, hide_folder
from layers.accounts.scope import Actor
from layers.crypto.keys import bind_key_ring, load_key_ring
from layers.database import make_engine, make_sessionmaker, transaction
from layers.errors import WarroomError
from layers.imports.models import ImportJob
from layers.imports.service import fail_job, finish_job, hold_job, release_job, set_progress
from layers.settings import Settings

logger = logging.getLogger(__name__)
_PROGRESS_EVERY_S = 0.5
_UNFINISHED = ("queued", "running")


def run_job(
    *, session_factory: sessionmaker[Session], job_id: str, request: ImportRequest, actor: Actor,
    max_vertices: int,
) -> None:  # fmt: skip
    """Run one import job to its end, recording progress, then the report or the error."""
    last = 0.0
    folder = request.path.parent  # the job's own folder on the server: shown to nobody

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
        error = hide_folder(exc.message, folder)
    except Exception:  # a job must always end in a state the user can read
        logger.exception("import job %s failed", job_id)
        error = "internal error while importing; see the server log"
    finally:
        request.path.unlink(missing_ok=True)  # the reject file stays for download
    with transaction(session_factory) as session:
        if report is None:
            fail_job(session=session, job_id=job_id, error=error)
        else:
            finish_job(session=session, job_id=job_id, report=report.shown(folder),
                       reject_file=report.reject_file)  # fmt: skip


def _child(settings: Settings, url: str, job_id: str, request: ImportRequest, actor: Actor) -> None:
    """Run a job in the child process, on an engine of its own."""
    engine = make_engine(settings, url=url)
    sessions = bind_key_ring(make_sessionmaker(engine), load_key_ring(settings.crypto))
    try:
        run_job(session_factory=sessions, job_id=job_id, request=request,
                actor=actor, max_vertices=settings.features.max_vertices)  # fmt: skip
    finally:
        engine.dispose()


def _watch(
    process: multiprocessing.process.BaseProcess, session_factory: sessionmaker[Session],
    job_id: str, request: ImportRequest, alive: Connection,
) -> None:  # fmt: skip
    """Wait for the job's process; record a failure if it died; then release the job."""
    try:
        process.join()
        if process.exitcode:
            request.path.unlink(missing_ok=True)
            with transaction(session_factory) as session:
                job = session.get(ImportJob, job_id)
                if job is not None and job.status in _UNFINISHED:
                    logger.error("import job %s: process exited with %s", job_id, process.exitcode)
                    fail_job(session=session, job_id=job_id, error=(
                        f"the import process ended unexpectedly (exit code {process.exitcode}), "
                        "perhaps out of memory; nothing was written"))  # fmt: skip
    finally:
        release_job(alive, job_id)  # only now may a reader take the job for interrupted
        alive.close()
        process.close()


def _context() -> ForkServerContext:
    context = multiprocessing.get_context("forkserver")
    assert isinstance(context, ForkServerContext)
    context.set_forkserver_preload([__name__])  # only taken when the fork server starts
    return context


def start_job(
    *, session_factory: sessionmaker[Session], settings: Settings, job_id: str,
    request: ImportRequest, actor: Actor,
) -> threading.Thread:  # fmt: skip
    """Start the job in a child process; return the thread that waits for it.

    The job's lock is taken before this returns, so the job never looks abandoned.
    """
    engine = session_factory.kw["bind"]
    alive = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    hold_job(alive, job_id)
    url = engine.url.render_as_string(hide_password=False)
    process = _context().Process(
        target=_child, name=f"import-{job_id}", daemon=True,
        args=(settings, url, job_id, request, actor),
    )  # fmt: skip
    try:
        process.start()
    except BaseException:
        release_job(alive, job_id)
        alive.close()
        raise
    watcher = threading.Thread(target=_watch, name=f"import-{job_id}", daemon=True,
                               args=(process, session_factory, job_id, request, alive))  # fmt: skip
    watcher.start()
    return watcher
