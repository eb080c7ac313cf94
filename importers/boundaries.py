"""A boundary layer replaced from its file keeps the rows of the boundaries it still has.

Features, officers and the hex counts point at districts and precincts by id. Replaced
the way other layers are (delete the layer, insert the file), every boundary got a new
id: each feature lost its precinct (``ON DELETE SET NULL``), was then written again
with the new one — over three minutes for a million units, which rewrites every index
entry of each — and an officer bound to a precinct blocked the import
(``ON DELETE RESTRICT``). So ``--mode replace`` of districts or precincts matches the
file's rows to the layer's by ``code``: a matched boundary keeps its id and takes the
file's geometry and attributes (its version goes up only if they differ), the layer's
boundaries missing from the file are deleted, new ones inserted. The database then
reassigns exactly the features whose place changed (migration 0012).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from importers.staging import STAGING, BBox, quote, scope_sql
from layers.accounts.scope import Scope
from layers.features.registry import LayerSpec

KEY = "code"
DERIVED = {"precinct_id", "district_id"}  # the database assigns them (migration 0012)

_DELETE = """
WITH gone AS (
    DELETE FROM {table} AS t
    WHERE {scope} AND NOT EXISTS (SELECT FROM {staging} AS s WHERE s.{key} = t.{key})
    RETURNING t.geom
)
SELECT count(*), ST_XMin(ST_Extent(geom)), ST_YMin(ST_Extent(geom)),
       ST_XMax(ST_Extent(geom)), ST_YMax(ST_Extent(geom)) FROM gone
"""
_UPSERT = """
WITH written AS (
    INSERT INTO {table} AS t ({names}) SELECT {names} FROM {staging}
    ON CONFLICT ({key}) DO UPDATE SET {sets}, version = t.version + 1, updated_at = now()
    WHERE ({old}) IS DISTINCT FROM ({new})
    RETURNING (xmax = 0) AS fresh
)
SELECT count(*) FILTER (WHERE fresh), count(*) FILTER (WHERE NOT fresh) FROM written
"""


def replace_boundaries(
    session: Session, spec: LayerSpec, columns: list[str], scope: Scope
) -> tuple[int, int, int, BBox | None]:
    """Make the layer's rows in ``scope`` the staged ones, matched by code.

    Return (deleted, inserted, updated, box of the deleted rows).
    """
    table = quote(spec.table)
    row = session.execute(text(_DELETE.format(
        table=table, staging=STAGING, key=KEY, scope=scope_sql(scope, "t", spec),
    )), {"scope_id": scope.id}).one()  # fmt: skip
    deleted, box = int(row[0]), None if row[1] is None else (row[1], row[2], row[3], row[4])
    changed = [quote(c) for c in columns if c not in DERIVED and c != KEY]
    inserted, updated = session.execute(text(_UPSERT.format(
        table=table, staging=STAGING, key=KEY, names=", ".join(quote(c) for c in columns),
        sets=", ".join(f"{c} = EXCLUDED.{c}" for c in changed),
        old=", ".join(f"t.{c}" for c in changed), new=", ".join(f"EXCLUDED.{c}" for c in changed),
    ))).one()  # fmt: skip
    return deleted, int(inserted), int(updated), box
