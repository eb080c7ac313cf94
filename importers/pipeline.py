"""The import: read, map, convert, check every row, then write it all or nothing.

Bulk import is the one sanctioned write path besides ``layers.features.service``: it
checks the actor's layer permission and jurisdiction, bumps ``version`` of updated
rows, and writes one audit record and one ``import.finished`` event in the
transaction that changes the layer. That transaction locks the layer against other
writers from the moment rows are checked, so checks and writes see the same layer.

Rows are checked and encoded a chunk at a time and streamed to PostgreSQL while the
next chunk is prepared. A small import (fewer rows than the layer holds) COPYs into a
temporary table and merges; a bulk import builds the layer anew beside itself and
swaps it in (``importers.shadow``). Killing the process at any point leaves the
layer as it was; running the same import again finishes it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import psycopg2
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from geo.tiling import tile_order
from importers import staging
from importers.base import ReadOptions, SourceTable, load_importer
from importers.checks import CheckedPlaces, RowRules, check_rows
from importers.convert import ConvertedRows, add_reason, convert_rows
from importers.crs import plausibility_warnings, resolve_crs, to_wgs84
from importers.encode import accepted_bounds, encode_rows
from importers.loads import open_load
from importers.mapping import build_mapping, column_crs
from importers.personal import Sealer, sealer_for
from importers.places import Places
from importers.report import ImportReport, ImportRequest
from importers.writers import REJECT_FORMAT, WRITE_FORMATS, write_table
from layers.accounts.scope import Actor
from layers.audit.service import append_event, audited_denials, record_audit
from layers.errors import Conflict, InvalidInput
from layers.events import announce_after_commit
from layers.features.jurisdiction import BOUNDARY_TABLES, Precincts
from layers.features.registry import LayerSpec, get_layer

ProgressFn = Callable[[str, int, int], None]
REASON_COLUMN = "reject_reason"
CHUNK_ROWS = 100_000


@dataclass
class Prepared:
    """A file read, mapped and converted: its rows, their WGS84 places, the report so far."""

    table: SourceTable
    rows: ConvertedRows
    places: Places
    report: ImportReport


def _prepare(spec: LayerSpec, request: ImportRequest, progress: ProgressFn) -> Prepared:
    source_name = request.source_name or request.path.name
    table = load_importer(request.path, ReadOptions(request.encoding, request.table),
                          request.format).read()  # fmt: skip
    if len(table) == 0:
        raise InvalidInput(f"{source_name} holds no rows to import")
    progress("read", len(table), len(table))
    mapping = build_mapping(spec, table, request.mapping, request.id_field)
    if request.mode != "upsert":
        mapping.feature_id = None  # only an upsert matches rows to features by id
    if request.mode == "upsert" and not (mapping.id_field or mapping.feature_id):
        raise InvalidInput("--mode upsert needs --id-field (the column holding the stable id)")
    rows = convert_rows(spec, table, mapping)
    declared = table.crs if table.crs is not None or request.crs else column_crs(mapping, table)
    source_crs = resolve_crs(declared, request.crs)
    places = to_wgs84(rows.geometry, source_crs)
    bounds = places.bounds()
    add_reason(rows.reasons, ~places.missing() & ~np.all(np.isfinite(bounds), axis=1),
               "coordinates could not be converted")  # fmt: skip
    report = ImportReport(
        layer=spec.id, source=source_name, format=table.format, crs=source_crs.label,
        encoding=table.encoding, rows=len(table), mode=request.mode, dry_run=request.dry_run,
        strict=request.strict, mapping=mapping.as_dict(), notes=list(table.notes),
        warnings=plausibility_warnings(places, source_crs, source_name),
    )  # fmt: skip
    progress("convert", len(table), len(table))
    return Prepared(table, rows, places, report)


@dataclass
class Chunk:
    """Some rows of the file, checked: accepted rows encoded, refused rows with reasons."""

    rejects: list[tuple[int, str]]
    accepted: CheckedPlaces
    rows: bytes | None


def _chunk(
    prepared: Prepared, rules: RowRules, rows: npt.NDArray[np.intp], encode: bool,
    sealer: Sealer | None = None,
) -> Chunk:  # fmt: skip
    """Type, check and (if ``encode``) encode the given rows of the file.

    With a ``sealer`` the accepted rows get their ids and their personal values sealed.
    """
    converted, spec = prepared.rows, rules.spec
    values, reasons = converted.values(rows)
    ids, keys = converted.external_id, converted.keys
    ids = ids.iloc[rows].reset_index(drop=True) if ids is not None else None
    keys = keys.iloc[rows].reset_index(drop=True) if keys is not None else None
    placed = check_rows(rules, prepared.places.take(rows), keys, reasons)
    ok = reasons == ""
    rejects = [(int(rows[i]), str(reasons[i])) for i in np.flatnonzero(~ok)]
    accepted = placed.take(ok)
    if not encode or not ok.any():
        return Chunk(rejects, accepted, None)
    feature_ids = converted.feature_id[rows][ok] if converted.feature_id is not None else None
    kept = {name: v[ok].reset_index(drop=True) for name, v in values.items()}
    if sealer is not None:
        matched = keys[ok].reset_index(drop=True) if keys is not None else None
        kept, feature_ids = sealer.seal(kept, matched, int(ok.sum()))
    encoded = encode_rows(spec, kept, ids[ok].reset_index(drop=True) if ids is not None else None,
                          accepted, feature_ids)  # fmt: skip
    return Chunk(rejects, accepted, encoded)


def _rules(session: Session, spec: LayerSpec, request: ImportRequest, actor: Actor,
           rows: ConvertedRows, max_vertices: int) -> RowRules:  # fmt: skip
    return RowRules(
        spec=spec, mode=request.mode, scope=actor.scope, max_vertices=max_vertices,
        precincts=None if spec.table in BOUNDARY_TABLES else Precincts.load(session),
        existing=staging.existing_features(session, spec, rows.keys),
    )  # fmt: skip


def _load(
    session: Session, spec: LayerSpec, request: ImportRequest, actor: Actor, max_vertices: int,
    prepared: Prepared, step: ProgressFn,
) -> list[tuple[int, str]]:  # fmt: skip
    """Check every row and (unless dry-run or refused) change the layer in one transaction."""
    report, rows, total = prepared.report, prepared.rows, len(prepared.rows)
    # A bulk load outlives the pool's per-statement timeout by design.
    session.execute(text("SET LOCAL statement_timeout = 0"))
    if not request.dry_run:
        staging.lock_layer(session, spec)
    rules = _rules(session, spec, request, actor, rows, max_vertices)
    if request.mode == "upsert":  # where they were (Python floats: they become SQL parameters)
        report.bbox = staging.union_bounds(*map(tuple, rules.existing.bounds.tolist()))
    writer = open_load(session, spec, request, rows, actor, len(rules.existing))
    sealer = sealer_for(session, spec, rows.attributes, rules.existing, request.mode == "upsert")
    rejects: list[tuple[int, str]] = []
    committed = False
    # Rows go in map order (quadkeys of their places): neighbours share pages on disk.
    order = tile_order(*prepared.places.centres())
    try:
        for lo in range(0, total, CHUNK_ROWS):
            encode = writer is not None and not (request.strict and rejects)
            chunk = _chunk(prepared, rules, order[lo : lo + CHUNK_ROWS], encode, sealer)
            rejects += chunk.rejects
            if writer is not None and chunk.rows is not None:
                writer.write(chunk.rows)
                report.bbox = staging.union_bounds(report.bbox, accepted_bounds(chunk.accepted))
            step("check", min(lo + CHUNK_ROWS, total), total)
        rejects.sort()
        report.count_reasons([reason for _, reason in rejects])
        if writer is None or (request.strict and rejects):
            report.status = "dry-run" if request.dry_run else "refused"
            session.rollback()
            return rejects
        writer.finish(report, step)
        counts = {"inserted": report.inserted, "updated": report.updated,
                  "deleted": report.deleted, "rejected": report.rejected}  # fmt: skip
        record_audit(session, actor=actor, action=f"{spec.id}.import", target_type=spec.id,
                     detail=f"{report.source} ({report.format}, {report.crs}, "
                            f"{request.mode})"[:500],
                     after={"source": report.source, "rows": report.rows, **counts,
                            "mapping": report.mapping})  # fmt: skip
        event = append_event(
            session, type="import.finished", actor=actor, layer=spec.id, bounds=report.bbox,
            payload={"source": report.source, **counts},
        )  # fmt: skip
        announce_after_commit(session, event)  # the tile cache forgets the area after commit
        session.commit()
        committed = True
    finally:
        if writer is not None:
            writer.close(committed)
    step("merge", total, total)
    return rejects


def _write_rejects(
    prepared: Prepared, rejects: list[tuple[int, str]], request: ImportRequest
) -> str | None:
    if not rejects or request.reject_dir is None:
        return None
    table = prepared.table
    index = [r[0] for r in rejects]
    frame: pd.DataFrame = table.columns.iloc[index].reset_index(drop=True)
    frame[REASON_COLUMN] = [r[1] for r in rejects]
    out_format = REJECT_FORMAT[table.format]
    name = Path(request.source_name or request.path.name).stem
    path = request.reject_dir / f"{name}.rejects{WRITE_FORMATS[out_format][0]}"
    geoms = table.geometry[index] if table.geometry is not None else None
    return str(write_table(frame, geoms, table.crs, out_format, path, layer="rejects").path)


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
        prepared = _prepare(spec, request, step)
        if warn is not None:
            for warning in prepared.report.warnings:
                warn(warning)
        try:
            rejects = _load(session, spec, request, actor, max_vertices, prepared, step)
        except (IntegrityError, psycopg2.IntegrityError) as exc:  # the bulk path's own links
            session.rollback()
            cause = exc.orig if isinstance(exc, IntegrityError) else exc
            raise Conflict(f"the import clashes with existing data: {cause}") from exc
    report = prepared.report
    report.reject_file = _write_rejects(prepared, rejects, request)
    report.seconds = round(time.monotonic() - started, 3)
    return report
