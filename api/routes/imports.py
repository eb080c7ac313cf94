"""Import jobs: upload a file (streamed to disk, size-limited), follow progress, get results."""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, Response
from python_multipart import create_form_parser
from python_multipart.multipart import Field, File
from starlette.concurrency import run_in_threadpool

from api.access import requires
from api.deps import CurrentActor, SessionDep, SettingsDep
from api.schemas.imports import ImportJobPublic
from importers.jobs import start_job
from importers.mapping import parse_map
from importers.report import ImportRequest, parse_mode
from importers.settings import ImportSettings
from importers.widths import precheck
from layers.accounts.roles import Permission, Role
from layers.accounts.scope import Actor
from layers.database import transaction
from layers.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from layers.features.registry import get_layer
from layers.imports.models import ImportJob
from layers.imports.service import create_job, expire_jobs, get_job
from layers.settings import Settings

router = APIRouter(prefix="/api/imports", tags=["imports"])
UPLOAD_ROLES = frozenset({Role.ADMIN, Role.COMMANDER, Role.OFFICER})
IMPORTERS = requires(Permission.FEATURES_WRITE, roles=UPLOAD_ROLES, name="import data")
OPTIONS = ("layer", "crs", "encoding", "map", "id_field", "mode", "dry_run", "strict", "table")


def get_import_settings(request: Request) -> ImportSettings:
    """Return the app's import settings (defaults from ``WARROOM_IMPORTS_*`` if none set)."""
    settings = getattr(request.app.state, "import_settings", None)
    return settings if isinstance(settings, ImportSettings) else ImportSettings()


ImportSettingsDep = Annotated[ImportSettings, Depends(get_import_settings)]


def _too_large(limit: int) -> HTTPException:
    return HTTPException(413, f"upload larger than the limit of {limit:,} bytes")


def _safe_name(name: str) -> str:
    base = Path(name.replace("\\", "/")).name
    return re.sub(r"[^\w.\-]", "_", base)[-120:] or "upload"


async def _receive(request: Request, work_dir: Path, limit: int) -> tuple[Path, dict[str, str]]:
    """Stream a multipart body to ``work_dir``; stop with 413 as soon as it passes ``limit``."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise _too_large(limit)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise InvalidInput("send the file as multipart/form-data in a part named 'file'")
    fields: dict[str, str] = {}
    files: list[tuple[str, Path]] = []

    def on_field(field: Field) -> None:
        if field.field_name and field.value is not None:
            fields[field.field_name.decode()] = field.value.decode("utf-8", errors="replace")

    def on_file(file: File) -> None:
        file.flush_to_disk()
        file.file_object.close()
        if file.actual_file_name and file.field_name == b"file":
            files.append(((file.file_name or b"upload").decode(errors="replace"),
                          Path(file.actual_file_name.decode())))  # fmt: skip

    config = {"UPLOAD_DIR": str(work_dir), "UPLOAD_DELETE_TMP": False, "MAX_MEMORY_FILE_SIZE": 0}
    parser = create_form_parser({"Content-Type": request.headers["content-type"].encode()},
                                on_field, on_file, config=config)  # fmt: skip
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise _too_large(limit)
        parser.write(chunk)
    parser.finalize()
    if len(files) != 1:
        raise InvalidInput("send exactly one file in a multipart part named 'file'")
    name, stored = files[0]
    path = stored.rename(work_dir / _safe_name(name))
    return path, fields


def _request(path: Path, options: dict[str, str], work_dir: Path) -> ImportRequest:
    def flag(name: str) -> bool:
        return options.get(name, "").lower() in {"1", "true", "yes", "on"}

    return ImportRequest(
        path=path, layer=options["layer"], crs=options.get("crs") or None,
        encoding=options.get("encoding") or None, mapping=parse_map(options.get("map", "")),
        id_field=options.get("id_field") or None, mode=parse_mode(options.get("mode", "insert")),
        dry_run=flag("dry_run"), strict=flag("strict"), table=options.get("table") or None,
        reject_dir=work_dir, source_name=path.name,
    )  # fmt: skip


def _start(request: Request, settings: Settings, actor: Actor, job_request: ImportRequest,
           work_dir: Path) -> ImportJob:  # fmt: skip
    factory = request.app.state.sessionmaker
    with transaction(factory) as session:
        job = create_job(session=session, actor=actor, layer=job_request.layer,
                         source=job_request.path.name, work_dir=str(work_dir))  # fmt: skip
    start_job(session_factory=factory, settings=settings, job_id=job.id, request=job_request,
              actor=actor)  # fmt: skip
    return job


def _expire(request: Request, limits: ImportSettings) -> None:
    """Remove the folders of jobs that ended more than ``keep_days`` ago."""
    with transaction(request.app.state.sessionmaker) as session:
        folders = expire_jobs(session=session, older_than=timedelta(days=limits.keep_days))
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)


@router.post("", dependencies=[Depends(IMPORTERS)], status_code=202, response_model=ImportJobPublic)
async def create_import(
    request: Request, actor: CurrentActor, settings: SettingsDep, limits: ImportSettingsDep
) -> ImportJobPublic:
    """Upload a file and start importing it in the background; poll the returned job."""
    if actor.role not in UPLOAD_ROLES:
        raise PermissionDenied(f"role {actor.role.value!r} may not import data")
    query = {k: v for k, v in request.query_params.items() if k in OPTIONS}
    if "layer" in query:
        actor.require_layer_write(get_layer(query["layer"]).id)
    await run_in_threadpool(_expire, request, limits)
    work_dir = Path(tempfile.mkdtemp(prefix="warroom-import-", dir=limits.work_dir))
    try:
        path, form = await _receive(request, work_dir, limits.max_upload_bytes)
        options = {k: v for k, v in form.items() if k in OPTIONS} | query
        if "layer" not in options:
            raise InvalidInput("say which layer to import into: field or query parameter 'layer'")
        job_request = _request(path, options, work_dir)
        get_layer(job_request.layer)
        await run_in_threadpool(precheck, path)  # a 1,000,000-column table is a 422 now
        job = await run_in_threadpool(_start, request, settings, actor, job_request, work_dir)
    except BaseException:
        shutil.rmtree(work_dir, ignore_errors=True)
        raise
    return _public(job)


def _public(job: ImportJob) -> ImportJobPublic:
    public = ImportJobPublic.model_validate(job)
    public.has_rejects = job.reject_file is not None
    return public


@router.get("/{job_id}", dependencies=[Depends(IMPORTERS)], response_model=ImportJobPublic)
def read_import(job_id: str, session: SessionDep, actor: CurrentActor) -> ImportJobPublic:
    """Return an import job's status and progress (rows done of total)."""
    return _public(get_job(session=session, job_id=job_id, actor=actor))


@router.get("/{job_id}/report", dependencies=[Depends(IMPORTERS)])
def read_import_report(job_id: str, session: SessionDep, actor: CurrentActor) -> Response:
    """Download the report of a finished import as JSON."""
    job = get_job(session=session, job_id=job_id, actor=actor)
    if job.status not in {"finished", "failed"}:
        raise Conflict(f"import job {job_id} is still {job.status}")
    body = job.report if job.report is not None else {"error": job.error}
    headers = {"Content-Disposition": f'attachment; filename="import-{job_id}-report.json"'}
    return Response(json.dumps(body, ensure_ascii=False, indent=2), media_type="application/json",
                    headers=headers)  # fmt: skip


@router.get("/{job_id}/rejects", dependencies=[Depends(IMPORTERS)])
def read_import_rejects(job_id: str, session: SessionDep, actor: CurrentActor) -> FileResponse:
    """Download the rejected rows (same format as the upload, plus a reject_reason column)."""
    job = get_job(session=session, job_id=job_id, actor=actor)
    if job.reject_file is None or not Path(job.reject_file).is_file():
        raise NotFound(f"import job {job_id} has no rejected rows (reject files are kept for "
                       "WARROOM_IMPORTS_KEEP_DAYS days after a job ends)")  # fmt: skip
    return FileResponse(job.reject_file, filename=Path(job.reject_file).name)
