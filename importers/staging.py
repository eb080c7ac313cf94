"""The SQL of a bulk load: COPY into a temporary table, check every row at once, merge.

Everything runs inside the caller's transaction; the temporary tables vanish at its
end, so an interrupted import leaves neither half-loaded rows nor staging debris.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
from sqlalchemy import text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from geo.validate import CHINA_BOUNDS
from layers.accounts.scope import Scope, ScopeKind
from layers.base import AreaFeature
from layers.features.registry import LayerSpec

STAGING = "import_staging"
CHECKED = "import_checked"
PLACES = "import_places"
CHUNK_ROWS = 100_000
# From this many rows (and at least the table's size) indexes are rebuilt, not updated.
BULK_ROWS = 100_000
_DIALECT = postgresql.dialect()


def has_cover(spec: LayerSpec) -> bool:
    """Return whether the layer keeps an H3 cover (polygon layers)."""
    return issubclass(spec.model, AreaFeature)


def _quote(name: str) -> str:
    return str(_DIALECT.identifier_preparer.quote(name))


def staging_columns(spec: LayerSpec, attributes: list[str]) -> dict[str, str]:
    """Return the staging table's columns and SQL types, in COPY order."""
    table = spec.model.__table__  # type: ignore[attr-defined]
    columns = {"row_no": "integer", "py_reason": "text", "external_id": "text",
               "x": "double precision", "y": "double precision", "geom": "geometry",
               "h3_cell": "bigint"}  # fmt: skip
    if has_cover(spec):
        columns["h3_cover"] = "bigint[]"
    for name in attributes:
        columns[name] = str(table.c[name].type.compile(dialect=_DIALECT))
    return columns


def create_staging(session: Session, columns: dict[str, str]) -> None:
    """Create the transaction's temporary staging table."""
    body = ", ".join(f"{_quote(name)} {kind}" for name, kind in columns.items())
    session.execute(text(f"CREATE TEMP TABLE {STAGING} ({body}) ON COMMIT DROP"))


def copy_rows(
    session: Session, frame: pd.DataFrame, on_chunk: Callable[[int], None] | None = None
) -> None:
    """COPY ``frame`` (columns in staging order, '' for NULL) into the staging table."""
    cursor = session.connection().connection.cursor()
    names = ", ".join(_quote(str(c)) for c in frame.columns)
    sql = f"COPY {STAGING} ({names}) FROM STDIN WITH (FORMAT csv)"
    for start, chunk in _chunks(frame):
        buffer = io.StringIO()
        chunk.to_csv(buffer, header=False, index=False)
        buffer.seek(0)
        cursor.copy_expert(sql, buffer)
        if on_chunk is not None:
            on_chunk(start + len(chunk))
    cursor.close()


def _chunks(frame: pd.DataFrame) -> Iterator[tuple[int, pd.DataFrame]]:
    for start in range(0, len(frame), CHUNK_ROWS):
        yield start, frame.iloc[start : start + CHUNK_ROWS]


def scope_sql(scope: Scope, alias: str, spec: LayerSpec, prefix: str = "") -> str:
    """Return the SQL condition that ``alias``'s precinct/district lies in ``scope``."""
    if scope.kind is ScopeKind.CITY:
        return "true"
    if spec.id in {"districts", "precincts"} or scope.kind is ScopeKind.UNIT:
        return "false"
    column = "district_id" if scope.kind is ScopeKind.DISTRICT else "precinct_id"
    return f"{alias}.{prefix}{column} = :scope_id"


def _geometry_sql(spec: LayerSpec) -> tuple[str, str, str]:
    """Return SQL for the stored geometry, its representative point and a validity check."""
    if spec.geometry_type == "Point":
        # A point with finite coordinates (checked in Python) is always valid.
        return (
            "CASE WHEN s.x IS NOT NULL THEN ST_SetSRID(ST_MakePoint(s.x, s.y), 4326) "
            "WHEN s.geom IS NOT NULL THEN ST_SetSRID(s.geom, 4326) END", "g.geom", "",
        )  # fmt: skip
    repaired = ("CASE WHEN s.x IS NOT NULL THEN ST_MakePoint(s.x, s.y) "
                "WHEN GeometryType(s.geom) NOT IN ('POLYGON', 'MULTIPOLYGON') THEN s.geom "
                "WHEN ST_IsValid(s.geom) THEN ST_Multi(s.geom) "
                "ELSE ST_Multi(ST_CollectionExtract(ST_MakeValid(s.geom), 3)) END")  # fmt: skip
    check = ("WHEN NOT ST_IsValid(g.geom) THEN "
             "'invalid geometry, cannot be repaired: ' || ST_IsValidReason(g.geom)")  # fmt: skip
    geometry = (
        f"CASE WHEN s.x IS NOT NULL OR s.geom IS NOT NULL THEN ST_SetSRID({repaired}, 4326) END"
    )
    return geometry, "ST_PointOnSurface(g.geom)", check


_CHECK = """
CREATE TEMP TABLE {checked} ON COMMIT DROP AS
SELECT s.row_no, s.external_id, s.h3_cell {cover} {attrs}, g.geom, {point} AS pt,
       t.id AS existing_id, t.precinct_id AS old_precinct_id, t.district_id AS old_district_id,
       t.geom AS old_geom,
       CASE
         WHEN s.py_reason IS NOT NULL THEN s.py_reason
         WHEN g.geom IS NULL OR ST_IsEmpty(g.geom) THEN 'no geometry'
         WHEN GeometryType(g.geom) <> :geometry_type THEN
           'wrong geometry type ' || GeometryType(g.geom) || ': the layer stores ' || :geometry_type
         {valid}
         WHEN ST_XMin(g.geom) < :min_lon OR ST_YMin(g.geom) < :min_lat
           OR ST_XMax(g.geom) > :max_lon OR ST_YMax(g.geom) > :max_lat THEN
           'outside China (' || round(ST_X({point})::numeric, 5) || ', '
           || round(ST_Y({point})::numeric, 5) || ')'
         WHEN ST_NPoints(g.geom) > :max_vertices THEN
           'too many vertices (' || ST_NPoints(g.geom) || ' > ' || :max_vertices || ')'
         WHEN s.external_id IS NULL AND :mode = 'upsert' THEN 'no id: an upsert needs one'
         WHEN t.id IS NOT NULL AND :mode = 'insert' THEN
           'a feature with this id exists already (use --mode upsert to update it)'
       END AS reason
FROM {staging} AS s
CROSS JOIN LATERAL (SELECT {geometry} AS geom) AS g
LEFT JOIN {table} AS t ON t.external_id = s.external_id
"""

# The semantics of ``layers.features.jurisdiction.assign_jurisdiction`` (the precinct that
# contains the representative point), joined precinct-first over an index on the points
# so that each polygon is prepared once instead of probing the precincts row by row.
_PLACE = """
CREATE TEMP TABLE {places} ON COMMIT DROP AS
SELECT DISTINCT ON (c.row_no) c.row_no, p.id AS precinct_id, p.district_id
FROM precincts AS p JOIN {checked} AS c ON ST_Intersects(p.geom, c.pt)
WHERE c.reason IS NULL ORDER BY c.row_no, p.id
"""

_SCOPE = """
UPDATE {checked} AS c SET reason = CASE WHEN ({new}) IS NOT TRUE
  THEN 'outside your jurisdiction'
  ELSE 'the existing feature with this id is outside your jurisdiction' END
FROM {checked} AS k LEFT JOIN {places} AS j ON j.row_no = k.row_no
WHERE k.row_no = c.row_no AND c.reason IS NULL
  AND (({new}) IS NOT TRUE OR (c.existing_id IS NOT NULL AND ({old}) IS NOT TRUE))
"""


def check_rows(
    session: Session, spec: LayerSpec, attributes: list[str], *, scope: Scope, mode: str,
    max_vertices: int,
) -> None:  # fmt: skip
    """Build the checked and places tables: geometry, jurisdiction and reasons for bad rows."""
    params: dict[str, Any] = dict(zip(("min_lon", "min_lat", "max_lon", "max_lat"),
                                      CHINA_BOUNDS, strict=True))  # fmt: skip
    params |= {"geometry_type": spec.geometry_type.upper(), "mode": mode,
               "max_vertices": max_vertices}  # fmt: skip
    geometry, point, valid = _geometry_sql(spec)
    session.execute(text(_CHECK.format(
        checked=CHECKED, staging=STAGING, table=_quote(spec.table), geometry=geometry,
        point=point, valid=valid, cover=", s.h3_cover" if has_cover(spec) else "",
        attrs="".join(f", s.{_quote(a)}" for a in attributes),
    )), params)  # fmt: skip
    session.execute(text(f"CREATE INDEX ON {CHECKED} USING gist (pt)"))
    session.execute(text(f"ANALYZE {CHECKED} (pt, reason)"))
    session.execute(text(_PLACE.format(places=PLACES, checked=CHECKED)))
    session.execute(text(f"CREATE UNIQUE INDEX ON {PLACES} (row_no)"))
    if scope.kind is not ScopeKind.CITY:
        new, old = scope_sql(scope, "j", spec), scope_sql(scope, "c", spec, prefix="old_")
        sql = _SCOPE.format(checked=CHECKED, places=PLACES, new=new, old=old)
        session.execute(text(sql), {"scope_id": scope.id})


def rejected(session: Session) -> list[tuple[int, str]]:
    """Return ``(row_no, reason)`` of every refused row, in file order."""
    rows = session.execute(text(f"SELECT row_no, reason FROM {CHECKED} "
                                "WHERE reason IS NOT NULL ORDER BY row_no"))  # fmt: skip
    return [(int(r[0]), str(r[1])) for r in rows]


BBox = tuple[float, float, float, float]
_EXTENT = "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM ({extent}) AS x"


def union_bounds(*boxes: BBox | None) -> BBox | None:
    """Return the box around every given box (None if there are none)."""
    present = [b for b in boxes if b is not None]
    if not present:
        return None
    return (min(b[0] for b in present), min(b[1] for b in present),
            max(b[2] for b in present), max(b[3] for b in present))  # fmt: skip


def accepted_bounds(session: Session) -> BBox | None:
    """Return the box around the rows that will load and where updated rows were before."""
    extent = (f"SELECT ST_Extent(g) AS e FROM (SELECT geom AS g FROM {CHECKED} "
              f"WHERE reason IS NULL UNION ALL SELECT old_geom FROM {CHECKED} "
              "WHERE reason IS NULL AND old_geom IS NOT NULL) AS g")  # fmt: skip
    row = session.execute(text(_EXTENT.format(extent=extent))).one()
    return None if row[0] is None else (row[0], row[1], row[2], row[3])


def delete_in_scope(session: Session, spec: LayerSpec, scope: Scope) -> tuple[int, BBox | None]:
    """Delete the layer's rows inside ``scope`` (``--mode replace``); return count and box."""
    deleted = (f"DELETE FROM {_quote(spec.table)} AS t WHERE {scope_sql(scope, 't', spec)} "
               "RETURNING t.geom")  # fmt: skip
    extent = "ST_Extent(geom)"
    row = session.execute(text(
        f"WITH gone AS ({deleted}) SELECT count(*), ST_XMin({extent}), ST_YMin({extent}), "
        f"ST_XMax({extent}), ST_YMax({extent}) FROM gone"
    ), {"scope_id": scope.id}).one()  # fmt: skip
    return int(row[0]), None if row[1] is None else (row[1], row[2], row[3], row[4])


_SECONDARY_INDEXES = """
SELECT i.indexname, i.indexdef FROM pg_indexes AS i
WHERE i.schemaname = current_schema() AND i.tablename = :table
  AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c WHERE c.conname = i.indexname)
"""
_FOREIGN_KEYS = """
SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
WHERE conrelid = to_regclass(:table) AND contype = 'f'
"""


def bulk_size(session: Session, spec: LayerSpec, accepted: int) -> bool:
    """Return whether ``accepted`` rows are worth dropping and rebuilding the indexes for."""
    estimate = session.scalar(text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:t)"),
                              {"t": spec.table})  # fmt: skip
    return accepted >= max(BULK_ROWS, float(estimate or 0))


def drop_for_bulk_load(session: Session, spec: LayerSpec) -> list[str]:
    """Drop the layer's secondary indexes and foreign keys; return the SQL restoring them.

    PostgreSQL's own advice for populating a table: building an index once and checking
    a foreign key with one join beat maintaining them row by row.
    """
    table = _quote(spec.table)
    restore = []
    for name, definition in session.execute(text(_SECONDARY_INDEXES), {"table": spec.table}):
        session.execute(text(f"DROP INDEX {_quote(name)}"))
        restore.append(str(definition))
    for name, definition in session.execute(text(_FOREIGN_KEYS), {"table": spec.table}).all():
        session.execute(text(f"ALTER TABLE {table} DROP CONSTRAINT {_quote(name)}"))
        restore.append(f"ALTER TABLE {table} ADD CONSTRAINT {_quote(name)} {definition}")
    return restore


def restore_after_bulk_load(session: Session, statements: list[str]) -> None:
    """Recreate what ``drop_for_bulk_load`` dropped."""
    session.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
    for statement in statements:
        session.execute(text(statement))


def merge(session: Session, spec: LayerSpec, attributes: list[str], *, mapped: set[str],
          upsert: bool) -> tuple[int, int]:  # fmt: skip
    """Insert (or upsert by external_id) the accepted rows; return (inserted, updated)."""
    columns = ["external_id", *attributes, "geom", "h3_cell"]
    if has_cover(spec):
        columns.append("h3_cover")
    names = ", ".join(_quote(c) for c in [*columns, "precinct_id", "district_id"])
    values = ", ".join(f"c.{_quote(c)}" for c in columns)
    table = _quote(spec.table)
    select = (f"SELECT {values}, j.precinct_id, j.district_id FROM {CHECKED} AS c "
              f"LEFT JOIN {PLACES} AS j ON j.row_no = c.row_no WHERE c.reason IS NULL")  # fmt: skip
    if not upsert:
        result = session.execute(text(f"INSERT INTO {table} ({names}) {select}"))
        return int(result.rowcount), 0  # type: ignore[attr-defined]
    updated = [c for c in [*columns, "precinct_id", "district_id"]
               if c not in attributes or c in mapped]  # fmt: skip
    sets = ", ".join(f"{_quote(c)} = EXCLUDED.{_quote(c)}" for c in updated)
    sql = (f"WITH written AS (INSERT INTO {table} ({names}) {select} "
           f"ON CONFLICT (external_id) DO UPDATE SET {sets}, version = {table}.version + 1, "
           "updated_at = now() RETURNING (xmax = 0) AS fresh) "
           "SELECT count(*) FILTER (WHERE fresh), count(*) FILTER (WHERE NOT fresh) "
           "FROM written")  # fmt: skip
    inserted, updated_count = session.execute(text(sql)).one()
    return int(inserted), int(updated_count)
