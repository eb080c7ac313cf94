"""Layer exports in the formats the importers read back."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from api.access import FEATURE_READERS
from api.deps import CurrentActor, LayerDep, RevealDep, SessionDep
from importers.export import (
    EXPORT_CRS,
    check_export,
    default_export_name,
    export_layer,
    seal_headers,
)
from importers.writers import WRITE_FORMATS

router = APIRouter(prefix="/api/layers", tags=["exports"], dependencies=[Depends(FEATURE_READERS)])


@router.get("/{layer}/export")
def read_layer_export(
    spec: LayerDep,
    session: SessionDep,
    actor: CurrentActor,
    request: Request,
    format: str = Query("geojson", description="|".join(WRITE_FORMATS)),
    crs: str = Query("wgs84", description="|".join(EXPORT_CRS)),
    reveal: RevealDep = False,
) -> FileResponse:
    """Download the features of a layer you may see as a file (personal values masked).

    ``X-Export-Count`` says how many features it holds, ``X-Export-Cut`` how many text
    values a format had to cut (a shapefile's 254 bytes; the zip keeps their full text)
    and ``X-Export-Notes`` what else to know, notes separated by `` | ``.
    ``X-Export-SM3`` is the SM3 digest of the file (hex) and, where an SM2 signing key
    is configured, ``X-Export-Signature`` the SM2 signature of that digest's 64 hex
    digits (``layers.crypto.sm2``).
    """
    check_export(format, crs)
    work_dir = Path(tempfile.mkdtemp(prefix="warroom-export-"))
    try:
        name = default_export_name(spec, format, crs)
        path = work_dir / name
        done = export_layer(session=session, spec=spec, actor=actor, fmt=format, crs=crs,
                            path=path, reveal=reveal)  # fmt: skip
        sealed = seal_headers(path, request.app.state.signer)
    except BaseException:
        shutil.rmtree(work_dir, ignore_errors=True)
        raise
    cleanup = BackgroundTask(shutil.rmtree, work_dir, ignore_errors=True)
    notes = " | ".join(done.notes).encode("ascii", "backslashreplace").decode()
    headers = {"X-Export-Count": str(done.count), "X-Export-Cut": str(done.cut), **sealed}
    return FileResponse(path, filename=name, background=cleanup,
                        headers=headers | ({"X-Export-Notes": notes} if notes else {}))  # fmt: skip
