"""The bulk load: read, map, convert, stage with COPY, check in SQL, merge in one transaction.

Bulk import is the one sanctioned write path besides ``layers.features.service``: it
checks the actor's layer permission and jurisdiction, bumps ``version`` of updated
rows, and writes one audit record and one ``import.finished`` event, all inside the
transaction that writes the rows. Killing the process at any point leaves the layer
as it was; running the same import again finishes it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from geo import hexes, validate
from importers import staging
from importers.base import GeometryArray, ReadOptions, SourceTable, load_importer
from importers.convert import ConvertedRows, add_reason, convert_rows
from importers.crs import plausibility_warnings, resolve_crs, to_wgs84
from importers.mapping import build_mapping
from importers.report import ImportReport, ImportRequest
from importers.writers import REJECT_FORMAT, WRITE_FORMATS, write_table
from layers.accounts.scope import Actor
from layers.audit.service import append_event, audited_denials, record_audit
from layers.errors import Conflict, InvalidInput
from layers.events import announce_after_commit
from layers.features.jurisdiction import BOUNDARY_TABLES, assign_jurisdiction
from layers.features.registry import LayerSpec, get_layer

ProgressFn = Callable[[str, int, int], None]
REASON_COLUMN = "reject_reason"


def _point_cells(geoms: GeometryArray) -> pd.Series:
    x = shapely.get_x(geoms)
    y = shapely.get_y(geoms)
    ok = ~shapely.is_missing(geoms) & (np.abs(y) <= 90) & (np.abs(x) <= 180)
    cells = pd.Series([""] * len(geoms), dtype=object)
    if ok.any():
        cells[ok] = hexes.cells_of_points(x[ok], y[ok]).astype(str)
    return cells


def _area_cells(geoms: GeometryArray) -> tuple[pd.Series, pd.Series]:
    cells, covers = [""] * len(geoms), [""] * len(geoms)
    for i, geom in enumerate(geoms):
        try:
            area = validate.ensure_multipolygon(validate.repair_geometry(geom))
            point = area.representative_point()
            cells[i] = str(hexes.cell_of_point(point.x, point.y))
            covers[i] = "{" + ",".join(map(str, hexes.cover_polygon(area))) + "}"
        except (validate.GeometryError, ValueError, TypeError, AttributeError):
            continue  # the SQL check names what is wrong with this geometry
    return pd.Series(cells, dtype=object), pd.Series(covers, dtype=object)


def _staging_frame(spec: LayerSpec, rows: ConvertedRows, geoms: GeometryArray) -> pd.DataFrame:
    # Points travel as two numbers (cheaper to write and parse than WKB); anything else,
    # including a wrong-typed geometry the check must name, as hex WKB.
    points = shapely.get_type_id(geoms) == 0
    others = ~shapely.is_missing(geoms) & ~points
    frame = pd.DataFrame({
        "row_no": np.arange(len(rows)),
        "py_reason": rows.reasons,
        "external_id": rows.external_id if rows.external_id is not None else "",
        "x": np.where(points, shapely.get_x(geoms), np.nan),
        "y": np.where(points, shapely.get_y(geoms), np.nan),
        "geom": "",
    })  # fmt: skip
    if others.any():
        frame.loc[others, "geom"] = shapely.to_wkb(geoms[others], hex=True)
    if staging.has_cover(spec):
        frame["h3_cell"], frame["h3_cover"] = _area_cells(geoms)
    else:
        frame["h3_cell"] = _point_cells(geoms)
    for name, values in rows.values.items():
        frame[name] = values.to_numpy()
    return frame


def _write_rejects(
    table: SourceTable, rejects: list[tuple[int, str]], request: ImportRequest, fmt: str
) -> str | None:
    if not rejects or request.reject_dir is None:
        return None
    index = [r[0] for r in rejects]
    frame = table.columns.iloc[index].reset_index(drop=True)
    frame[REASON_COLUMN] = [r[1] for r in rejects]
    out_format = REJECT_FORMAT[fmt]
    name = Path(request.source_name or request.path.name).stem
    path = request.reject_dir / f"{name}.rejects{WRITE_FORMATS[out_format][0]}"
    geoms = table.geometry[index] if table.geometry is not None else None
    return str(write_table(frame, geoms, table.crs, out_format, path, layer="rejects"))


def _prepare(
    spec: LayerSpec, request: ImportRequest, progress: ProgressFn
) -> tuple[SourceTable, ConvertedRows, GeometryArray, ImportReport]:
    source_name = request.source_name or request.path.name
    table = load_importer(request.path, ReadOptions(request.encoding, request.table),
                          request.format).read()  # fmt: skip
    if len(table) == 0:
        raise InvalidInput(f"{source_name} holds no rows to import")
    progress("read", len(table), len(table))
    mapping = build_mapping(spec, table, request.mapping, request.id_field)
    if request.mode == "upsert" and not mapping.id_field:
        raise InvalidInput("--mode upsert needs --id-field (the column holding the stable id)")
    rows = convert_rows(spec, table, mapping)
    source_crs = resolve_crs(table.crs, request.crs)
    geoms = to_wgs84(rows.geometry, source_crs)
    add_reason(
        rows.reasons,
        ~shapely.is_missing(geoms) & ~np.all(np.isfinite(shapely.bounds(geoms)), axis=1),
        "coordinates could not be converted",
    )
    report = ImportReport(
        layer=spec.id, source=source_name, format=table.format, crs=source_crs.label,
        encoding=table.encoding, rows=len(table), mode=request.mode, dry_run=request.dry_run,
        strict=request.strict, mapping=mapping.as_dict(), notes=list(table.notes),
        warnings=plausibility_warnings(geoms, source_crs, source_name),
    )  # fmt: skip
    progress("convert", len(table), len(table))
    return table, rows, geoms, report


def _load(
    session: Session, spec: LayerSpec, request: ImportRequest, actor: Actor, max_vertices: int,
    rows: ConvertedRows, geoms: GeometryArray, report: ImportReport, step: ProgressFn,
) -> list[tuple[int, str]]:  # fmt: skip
    """Stage, check and (unless dry-run or refused) merge in one transaction."""
    frame = _staging_frame(spec, rows, geoms)
    attributes = list(rows.values)
    columns = staging.staging_columns(spec, attributes)
    total = len(frame)
    # A bulk load outlives the pool's per-statement timeout by design, and its sorts and
    # hashes (a million staged rows) should stay in memory.
    session.execute(text("SET LOCAL statement_timeout = 0"))
    session.execute(text("SET LOCAL work_mem = '256MB'"))
    staging.create_staging(session, columns)
    staging.copy_rows(session, frame[list(columns)], lambda done: step("copy", done, total))
    staging.check_rows(session, spec, attributes, scope=actor.scope, mode=request.mode,
                       max_vertices=max_vertices)  # fmt: skip
    step("check", total, total)
    rejects = staging.rejected(session)
    report.count_reasons([reason for _, reason in rejects])
    report.bbox = staging.accepted_bounds(session)
    if request.dry_run or (request.strict and rejects):
        report.status = "dry-run" if request.dry_run else "refused"
        session.rollback()
        return rejects
    if request.mode == "replace":
        report.deleted, gone = staging.delete_in_scope(session, spec, actor.scope)
        report.bbox = staging.union_bounds(report.bbox, gone)
    # A big load rebuilds indexes and re-checks foreign keys once instead of row by row;
    # dropping them locks the layer until commit, which a load of this size does anyway.
    bulk = staging.bulk_size(session, spec, report.rows - report.rejected)
    dropped = staging.drop_for_bulk_load(session, spec) if bulk else []
    report.inserted, report.updated = staging.merge(
        session, spec, attributes, mapped=rows.mapped, upsert=request.mode == "upsert"
    )
    staging.restore_after_bulk_load(session, dropped)
    if spec.table in BOUNDARY_TABLES:
        assign_jurisdiction(session, spec.table)
    counts = {"inserted": report.inserted, "updated": report.updated,
              "deleted": report.deleted, "rejected": report.rejected}  # fmt: skip
    record_audit(session, actor=actor, action=f"{spec.id}.import", target_type=spec.id,
                 detail=f"{report.source} ({report.format}, {report.crs}, {request.mode})"[:500],
                 after={"source": report.source, "rows": report.rows, **counts,
                        "mapping": report.mapping})  # fmt: skip
    event = append_event(
        session, type="import.finished", actor=actor, layer=spec.id, bounds=report.bbox,
        payload={"source": report.source, **counts},
    )  # fmt: skip
    announce_after_commit(session, event)  # the tile cache forgets the area after commit
    session.commit()
    step("merge", total, total)
    return rejects


def run_import(
    *,
    session_factory: sessionmaker[Session],
    request: ImportRequest,
    actor: Actor,
    max_vertices: int,
    progress: ProgressFn | None = None,
    warn: Callable[[str], None] | None = None,
) -> ImportReport:
    """Import one file into one layer; return the report (rows written only if loaded)."""
    started = time.monotonic()
    spec = get_layer(request.layer)
    step = progress or (lambda _step, _done, _total: None)
    with session_factory() as session:
        with audited_denials(session, actor, f"{spec.id}.import", spec.id, None):
            actor.require_layer_write(spec.id)
        table, rows, geoms, report = _prepare(spec, request, step)
        if warn is not None:
            for warning in report.warnings:
                warn(warning)
        try:
            rejects = _load(session, spec, request, actor, max_vertices, rows, geoms, report, step)
        except IntegrityError as exc:
            session.rollback()
            raise Conflict(f"the import clashes with existing data: {exc.orig}") from exc
    report.reject_file = _write_rejects(table, rejects, request, table.format)
    report.seconds = round(time.monotonic() - started, 3)
    return report
