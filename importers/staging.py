"""The SQL an import shares between its paths: lock, existing ids, COPY, delete, merge.

A small import COPYs its checked rows into a temporary table and merges them into the
layer inside the caller's transaction; the table vanishes at its end, so an
interrupted import leaves neither half-loaded rows nor staging debris.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from importers.checks import Existing
from importers.convert import FEATURE_KEY, feature_key
from importers.encode import COPY_HEADER, COPY_TRAILER
from layers.accounts.scope import Scope, ScopeKind
from layers.features.grams import text_of
from layers.features.jurisdiction import BOUNDARY_TABLES, NO_ID
from layers.features.registry import LayerSpec

STAGING = "import_staging"
BBox = tuple[float, float, float, float]
_DIALECT = postgresql.dialect()


def quote(name: str) -> str:
    """Return ``name`` quoted as a PostgreSQL identifier where it needs to be."""
    return str(_DIALECT.identifier_preparer.quote(name))


def lock_layer(session: Session, spec: LayerSpec) -> None:
    """Hold off every other writer of the layer (and other imports) until commit.

    Readers go on: what they see changes only when the import commits.
    """
    session.execute(text(f"LOCK TABLE {quote(spec.table)} IN SHARE ROW EXCLUSIVE MODE"))


def layer_size(session: Session, spec: LayerSpec) -> float:
    """Return the planner's estimate of the layer's row count (0 if never analysed)."""
    estimate = session.scalar(text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:t)"),
                              {"t": spec.table})  # fmt: skip
    return max(float(estimate or 0), 0.0)


_EXISTING = """
SELECT {key}, coalesce(t.precinct_id, :none), coalesce(t.district_id, :none),
       ST_XMin(t.geom), ST_YMin(t.geom), ST_XMax(t.geom), ST_YMax(t.geom), t.id
FROM {table} AS t WHERE {where}
"""


def existing_features(session: Session, spec: LayerSpec, keys: pd.Series | None) -> Existing:
    """Return the layer's features that rows of the file match, by the rows' keys.

    A key is an external id, or a feature id (``convert.feature_key``) for a row an
    upsert matches by id. External ids are asked by id (the unique index) for a file
    smaller than the layer, else every id of the layer is read once, which is cheaper
    than sending a million ids.
    """
    size = layer_size(session, spec)
    if keys is None or (size == 0 and not session.scalar(
        text(f"SELECT EXISTS (SELECT 1 FROM {quote(spec.table)})")  # noqa: S608 identifiers only, values bound
    )):  # fmt: skip
        return Existing({}, {}, np.empty((0, 4)))
    all_keys = pa.array(keys, pa.string(), from_pandas=True)
    by_feature = pc.starts_with(all_keys, FEATURE_KEY)
    in_file = pc.filter(all_keys, pc.invert(by_feature))
    by_id = len(in_file) < size
    where = "t.external_id = ANY(:ids)" if by_id else "t.external_id IS NOT NULL"
    wanted = pc.unique(pc.drop_null(in_file)).to_pylist() if by_id else []
    sql = _EXISTING.format(key="t.external_id", table=quote(spec.table), where=where)
    rows: list[Any] = [*session.execute(text(sql), {"ids": wanted, "none": NO_ID})]
    if not by_id and rows:  # the layer's ids are the smaller set to hash
        layer_ids = pa.array([r[0] for r in rows], pa.string())
        found = set(pc.filter(in_file, pc.is_in(in_file, value_set=layer_ids)).to_pylist())
        rows = [r for r in rows if r[0] in found]
    feature_ids = [int(k[len(FEATURE_KEY) :]) for k in pc.filter(all_keys, by_feature).to_pylist()]
    if feature_ids:
        found_ids = session.execute(text(_EXISTING.format(
            key="t.id", table=quote(spec.table), where="t.id = ANY(:ids)",
        )), {"ids": feature_ids, "none": NO_ID}).all()  # fmt: skip
        rows += [(feature_key(r[0]), *r[1:]) for r in found_ids]
    return Existing(
        {r[0]: int(r[1]) for r in rows},
        {r[0]: int(r[2]) for r in rows},
        np.array([r[3:7] for r in rows], dtype=np.float64).reshape(-1, 4),
        {r[0]: int(r[7]) for r in rows},
    )


def column_types(spec: LayerSpec, columns: list[str]) -> dict[str, str]:
    """Return the SQL type of each of the layer's ``columns``."""
    table = spec.model.__table__  # type: ignore[attr-defined]
    return {name: str(table.c[name].type.compile(dialect=_DIALECT)) for name in columns}


def create_staging(session: Session, spec: LayerSpec, columns: list[str]) -> None:
    """Create the transaction's temporary staging table, typed like the layer."""
    body = ", ".join(f"{quote(n)} {t}" for n, t in column_types(spec, columns).items())
    session.execute(text(f"CREATE TEMP TABLE {STAGING} ({body}) ON COMMIT DROP"))


def copy_sql(table: str, columns: list[str], *, freeze: bool = False) -> str:
    """Return the COPY statement reading ``columns`` of ``table`` in binary from the client."""
    options = "FORMAT binary, FREEZE" if freeze else "FORMAT binary"
    return f"COPY {table} ({', '.join(quote(c) for c in columns)}) FROM STDIN WITH ({options})"


def copy_rows(cursor: Any, table: str, columns: list[str], rows: bytes) -> None:
    """COPY binary tuples (as ``encode.encode_rows`` writes them) into ``table``."""
    cursor.copy_expert(copy_sql(table, columns), io.BytesIO(COPY_HEADER + rows + COPY_TRAILER))


def scope_sql(scope: Scope, alias: str, spec: LayerSpec, param: str = ":scope_id") -> str:
    """Return the SQL condition that ``alias``'s precinct/district lies in ``scope``.

    ``param`` is the placeholder of the scope's id (``%(scope_id)s`` for a raw cursor).
    """
    if scope.kind is ScopeKind.CITY:
        return "true"
    if spec.table in BOUNDARY_TABLES or scope.kind is ScopeKind.UNIT:
        return "false"
    column = "district_id" if scope.kind is ScopeKind.DISTRICT else "precinct_id"
    return f"{alias}.{column} = {param}"


def union_bounds(*boxes: BBox | None) -> BBox | None:
    """Return the box around every given box (None if there are none)."""
    present = [b for b in boxes if b is not None]
    if not present:
        return None
    return (min(b[0] for b in present), min(b[1] for b in present),
            max(b[2] for b in present), max(b[3] for b in present))  # fmt: skip


_COUNT_AND_BOX = """
{before} SELECT count(*), ST_XMin(ST_Extent(geom)), ST_YMin(ST_Extent(geom)),
       ST_XMax(ST_Extent(geom)), ST_YMax(ST_Extent(geom)) FROM {rows}
"""


def _count_and_box(
    session: Session, scope: Scope, rows: str, before: str = ""
) -> tuple[int, BBox | None]:
    statement = text(_COUNT_AND_BOX.format(before=before, rows=rows))
    row = session.execute(statement, {"scope_id": scope.id}).one()
    return int(row[0]), None if row[1] is None else (row[1], row[2], row[3], row[4])


def extent_in_scope(session: Session, spec: LayerSpec, scope: Scope) -> tuple[int, BBox | None]:
    """Return how many of the layer's rows lie inside ``scope``, and their box."""
    return _count_and_box(session, scope, f"{quote(spec.table)} AS t "
                          f"WHERE {scope_sql(scope, 't', spec)}")  # fmt: skip


def delete_in_scope(session: Session, spec: LayerSpec, scope: Scope) -> tuple[int, BBox | None]:
    """Delete the layer's rows inside ``scope`` (``--mode replace``); return count and box."""
    deleted = (f"DELETE FROM {quote(spec.table)} AS t WHERE {scope_sql(scope, 't', spec)} "  # noqa: S608 identifiers only, values bound
               "RETURNING t.geom")  # fmt: skip
    return _count_and_box(session, scope, "gone", before=f"WITH gone AS ({deleted})")


def merge(session: Session, spec: LayerSpec, columns: list[str], *, attributes: list[str],
          mapped: set[str], upsert: bool) -> tuple[int, int]:  # fmt: skip
    """Insert (or upsert by external_id, or by ``id``) the staged rows; return (inserted, updated).

    An upsert changes only the attributes the file maps; the others keep their values.
    Staged rows with an ``id`` update that feature (they have no external id).
    """
    table, by_id, fresh, select_where = quote(spec.table), 0, 0, ""
    if "id" in columns:
        columns = [c for c in columns if c != "id"]
        sets = _sets(columns, attributes, mapped, source="s", skip="external_id")
        by_id = session.execute(text(
            f"UPDATE {table} AS t SET {sets}, version = t.version + 1, updated_at = now() "  # noqa: S608 identifiers only, values bound
            f"FROM {STAGING} AS s WHERE s.id IS NOT NULL AND t.id = s.id"
        )).rowcount  # type: ignore[attr-defined]  # fmt: skip
        # new rows given their ids beforehand (their sealed values are bound to them)
        names = ", ".join(quote(c) for c in ["id", *columns])
        fresh = session.execute(text(
            f"INSERT INTO {table} ({names}) SELECT {names} FROM {STAGING} AS s "  # noqa: S608 identifiers only, values bound
            f"WHERE s.id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {table} AS t WHERE t.id = s.id)"
        )).rowcount  # type: ignore[attr-defined]  # fmt: skip
        select_where = " WHERE id IS NULL"
    names = ", ".join(quote(c) for c in columns)
    select = f"SELECT {names} FROM {STAGING}{select_where}"  # noqa: S608 identifiers only, values bound
    if not upsert:
        result = session.execute(text(f"INSERT INTO {table} ({names}) {select}"))
        return int(result.rowcount) + int(fresh), int(by_id)  # type: ignore[attr-defined]
    sets = _sets(columns, attributes, mapped)
    sql = (f"WITH written AS (INSERT INTO {table} ({names}) {select} "  # noqa: S608 identifiers only, values bound
           f"ON CONFLICT (external_id) DO UPDATE SET {sets}, version = {table}.version + 1, "
           "updated_at = now() RETURNING (xmax = 0) AS fresh) "
           "SELECT count(*) FILTER (WHERE fresh), count(*) FILTER (WHERE NOT fresh) "
           "FROM written")  # fmt: skip
    inserted, updated_count = session.execute(text(sql)).one()
    return int(inserted) + int(fresh), int(updated_count) + int(by_id)


def _sets(columns: list[str], attributes: list[str], mapped: set[str], *,
          source: str = "EXCLUDED", skip: str = "") -> str:  # fmt: skip
    """Return ``c = EXCLUDED.c, ...`` (or ``source.c``) for the columns an upsert changes."""
    # A text's grams follow the text (written with it, changed when it is mapped).
    updated = [c for c in columns if (text_of(c) not in attributes or text_of(c) in mapped)
               and c != skip]  # fmt: skip
    return ", ".join(f"{quote(c)} = {source}.{quote(c)}" for c in updated)
