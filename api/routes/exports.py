"""Layer exports in the formats the importers read back."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from api.deps import CurrentActor, LayerDep, SessionDep
from importers.export import EXPORT_CRS, default_export_name, export_layer
from importers.writers import WRITE_FORMATS

router = APIRouter(prefix="/api/layers", tags=["exports"])


@router.get("/{layer}/export")
def read_layer_export(
    spec: LayerDep,
    session: SessionDep,
    actor: CurrentActor,
    format: str = Query("geojson", description="|".join(WRITE_FORMATS)),
    crs: str = Query("wgs84", description="|".join(EXPORT_CRS)),
) -> FileResponse:
    """Download the features of a layer you may see as a file."""
    work_dir = Path(tempfile.mkdtemp(prefix="warroom-export-"))
    try:
        name = default_export_name(spec, format, crs) if format in WRITE_FORMATS else "export"
        path = work_dir / name
        export_layer(session=session, spec=spec, actor=actor, fmt=format, crs=crs, path=path)
    except BaseException:
        shutil.rmtree(work_dir, ignore_errors=True)
        raise
    cleanup = BackgroundTask(shutil.rmtree, work_dir, ignore_errors=True)
    return FileResponse(path, filename=name, background=cleanup)
