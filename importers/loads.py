"""The two ways an import changes a layer, behind one small contract.

``InPlaceLoad`` COPYs the checked rows into a temporary table and deletes, inserts or
upserts in the layer (indexes maintained as rows arrive). ``RebuiltLoad`` builds the
layer anew beside itself and swaps it in (``importers.shadow``); it is chosen for loads
of at least ``BULK_ROWS`` rows and at least the layer's size.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.orm import Session

from importers import staging
from importers.boundaries import replace_boundaries
from importers.convert import ConvertedRows
from importers.encode import copy_columns
from importers.layer_schema import LayerSchema, read_schema
from importers.report import ImportReport, ImportRequest
from importers.shadow import ShadowLoad
from layers.accounts.scope import Actor
from layers.features.grams import trigger_of
from layers.features.jurisdiction import BOUNDARY_TABLES
from layers.features.personal import personal_kinds
from layers.features.registry import LayerSpec
from layers.perimeters.cell_counts import recount_unit_cells

ProgressFn = Callable[[str, int, int], None]
# From this many rows (and at least the layer's size) the layer is rebuilt and swapped.
BULK_ROWS = 100_000
UPSERT_STAGING = "import_upserts"


class Load(Protocol):
    """Where checked rows go: a temporary table merged in place, or a new layer table."""

    def write(self, data: bytes) -> None:
        """Take one chunk of binary COPY tuples."""

    def finish(self, report: ImportReport, step: ProgressFn) -> None:
        """Change the layer (counts and box of removed or replaced rows into ``report``)."""

    def close(self, committed: bool) -> None:
        """Release what the writer holds, after the layer changed (committed) or not."""


class InPlaceLoad:
    """COPY into a temporary table, then delete (replace), insert or upsert in the layer."""

    def __init__(self, session: Session, spec: LayerSpec, request: ImportRequest,
                 columns: list[str], rows: ConvertedRows, actor: Actor) -> None:  # fmt: skip
        self.session, self.spec, self.request, self.columns = session, spec, request, columns
        self.rows, self.actor = rows, actor
        staging.create_staging(session, spec, columns)
        self.cursor = session.connection().connection.cursor()

    def write(self, data: bytes) -> None:
        staging.copy_rows(self.cursor, staging.STAGING, self.columns, data)

    def finish(self, report: ImportReport, step: ProgressFn) -> None:
        # The staged rows carry their grams, the very arrays the layer's grams trigger
        # computes (0.4 s per 100,000 names): it stays off for this transaction's writes,
        # which the layer lock it holds keeps every other writer away from.
        table, trigger = staging.quote(self.spec.table), trigger_of(self.spec.table)
        self.session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}"))
        self._change(report)
        # ALTER TABLE waits for no key check: those of the rows written run now.
        self.session.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
        self.session.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}"))

    def _change(self, report: ImportReport) -> None:
        session, spec = self.session, self.spec
        if self.request.mode == "replace" and spec.table in BOUNDARY_TABLES:
            report.deleted, report.inserted, report.updated, gone = replace_boundaries(
                session, spec, self.columns, self.actor.scope)  # fmt: skip
            report.bbox = staging.union_bounds(report.bbox, gone)
            return
        if self.request.mode == "replace":
            report.deleted, gone = staging.delete_in_scope(session, spec, self.actor.scope)
            report.bbox = staging.union_bounds(report.bbox, gone)
        report.inserted, report.updated = staging.merge(
            session, spec, self.columns, attributes=self.rows.attributes,
            mapped=self.rows.mapped, upsert=self.request.mode == "upsert",
        )  # fmt: skip

    def close(self, committed: bool) -> None:
        self.cursor.close()


class RebuiltLoad:
    """Stream rows into a new table of the layer, add the rows kept, build, swap."""

    def __init__(self, session: Session, spec: LayerSpec, request: ImportRequest,
                 columns: list[str], rows: ConvertedRows, actor: Actor, schema: LayerSchema,
                 matched: int) -> None:  # fmt: skip
        self.session, self.spec, self.request, self.rows, self.actor = (
            session, spec, request, rows, actor)  # fmt: skip
        self.load = ShadowLoad(session=session, spec=spec, schema=schema, columns=columns)
        # Rows matched by feature id carry an ``id`` column, which only a merge can take.
        self.staged = request.mode == "upsert" and (matched > 0 or "id" in columns)
        self.load.start(staged_as=UPSERT_STAGING if self.staged else None)

    def write(self, data: bytes) -> None:
        self.load.write(data)

    def finish(self, report: ImportReport, step: ProgressFn) -> None:
        load, scope, mode = self.load, self.actor.scope, self.request.mode
        load.end_copy()
        if self.staged:
            merged = load.merge_staged(UPSERT_STAGING, mapped=self.rows.mapped)
            report.inserted, report.updated = merged
        else:
            report.inserted = load.copied
            if mode == "replace":
                report.deleted, gone = staging.extent_in_scope(self.session, self.spec, scope)
                report.bbox = staging.union_bounds(report.bbox, gone)
                inside = staging.scope_sql(scope, "t", self.spec, param="%(scope_id)s")
                where = f"NOT coalesce({inside}, false)"
            else:
                where = "true"
            load.keep(where, {"scope_id": scope.id})
        load.build(step)
        load.swap()
        if self.spec.table == "units":  # the trigger of its cell counts saw no rows either
            recount_unit_cells(self.session)
        if report.bbox is not None:  # the layer's statement triggers saw no rows change
            self.session.execute(
                text("SELECT feature_box_changed(:layer, :clustered, :w, :s, :e, :n)"),
                dict(zip(("w", "s", "e", "n"), report.bbox, strict=True))
                | {"layer": self.spec.table, "clustered": self.spec.point_zoom > 0},
            )  # fmt: skip

    def close(self, committed: bool) -> None:
        self.load.close(keep=committed)


def bulk_schema(session: Session, spec: LayerSpec, rows: int) -> LayerSchema | None:
    """Return the layer's schema if ``rows`` are worth rebuilding it for, else None."""
    if spec.table in BOUNDARY_TABLES or rows < max(BULK_ROWS, staging.layer_size(session, spec)):
        return None
    return read_schema(session, spec)


def open_load(session: Session, spec: LayerSpec, request: ImportRequest, rows: ConvertedRows,
              actor: Actor, matched: int) -> Load | None:  # fmt: skip
    """Return where the import's rows go (None for a dry run); ``matched``: ids that exist."""
    if request.dry_run:
        return None
    # rows writing a personal attribute come with their ids (``importers.personal``)
    by_id = rows.feature_id is not None or bool(personal_kinds(spec).keys() & set(rows.attributes))
    columns = copy_columns(spec, rows.attributes, by_id=by_id)
    schema = bulk_schema(session, spec, len(rows))
    if schema is None:
        return InPlaceLoad(session, spec, request, columns, rows, actor)
    return RebuiltLoad(session, spec, request, columns, rows, actor, schema, matched)
