"""Files to download written from labelled rows (a perimeter's contents, a selection)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from importers.labelled import LabelledRow, file_name, write_labelled


def labelled_download(rows: Sequence[LabelledRow], fmt: str, stem: str) -> FileResponse:
    """Return ``rows`` as a file ``stem.<fmt>``, removed once sent; ``X-Export-Count`` counts it."""
    name = file_name(stem, fmt)
    work_dir = Path(tempfile.mkdtemp(prefix="warroom-export-"))
    try:
        write_labelled(rows, fmt, work_dir / name, layer=stem)
    except BaseException:
        shutil.rmtree(work_dir, ignore_errors=True)
        raise
    cleanup = BackgroundTask(shutil.rmtree, work_dir, ignore_errors=True)
    return FileResponse(work_dir / name, filename=name, background=cleanup,
                        headers={"X-Export-Count": str(len(rows))})  # fmt: skip
