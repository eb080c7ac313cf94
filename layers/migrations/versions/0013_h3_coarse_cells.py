"""hexbins: each feature's cells at resolutions 0-8, and hex counts split by them

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03

Coarse hexbins masked the stored resolution-9 cell down to its ancestor, but H3 children
are not inside their parent: ~6 % of features fell in a neighbouring hexagon at each
resolution. Every feature table gets ``h3_coarse int8[]``, the cells of the
representative point at resolutions 0-8 (``geo.hexes.coarser_cells``), filled here for
existing rows; ``hex_counts`` rows get ``coarse`` (the cells of their features at every
coarser resolution) in their key, and are rebuilt on first use.
"""

from __future__ import annotations

import io

import numpy as np
import shapely
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

from geo.hexes import coarser_cells

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

POINT_TABLES = ("units", "rail_stations", "bus_stations", "incidents", "vehicles")
AREA_TABLES = ("districts", "precincts", "parks", "construction_sites", "key_station_areas")
CLUSTERED_TABLES = ("units", "bus_stations", "incidents")
WORLD = "-180, -85.06, 180, 85.06"
BATCH = 200_000
KEY = ("layer", "resolution", "cell", "district_id", "precinct_id")


def _points(table: str) -> str:
    """Return the SQL reading ``id, h3_cell`` and what locates each row's point."""
    where = "h3_cell IS NOT NULL AND id > :last ORDER BY id LIMIT :batch"
    if table in POINT_TABLES:
        return f"SELECT id, h3_cell, ST_X(geom), ST_Y(geom) FROM {table} WHERE {where}"
    return f"SELECT id, h3_cell, ST_AsBinary(geom) FROM {table} WHERE {where}"


def _fill(table: str) -> None:
    """Write ``h3_coarse`` of every row of ``table`` that has a cell, in batches of ids."""
    connection = op.get_bind()
    cursor = connection.connection.cursor()
    cursor.execute("CREATE TEMP TABLE migration_coarse (id bigint, coarse int8[])")
    last = 0
    while rows := connection.execute(sa.text(_points(table)),
                                     {"last": last, "batch": BATCH}).all():  # fmt: skip
        ids = np.array([row[0] for row in rows], dtype=np.int64)
        cells = np.array([row[1] for row in rows], dtype=np.int64)
        if table in POINT_TABLES:
            xy = np.array([row[2:] for row in rows], dtype=np.float64)
        else:  # the writers' representative point (GEOS PointOnSurface, as shapely's)
            shapes = shapely.from_wkb([bytes(row[2]) for row in rows])
            xy = shapely.get_coordinates(shapely.point_on_surface(shapes))
        coarse = coarser_cells(xy[:, 0], xy[:, 1], cells).astype(str).tolist()
        lines = "".join(f"{id_}\t{{{','.join(row)}}}\n"
                        for id_, row in zip(ids.tolist(), coarse, strict=True))  # fmt: skip
        cursor.copy_expert("COPY migration_coarse FROM STDIN", io.StringIO(lines))
        last = int(ids[-1])
    cursor.execute(f"UPDATE {table} AS t SET h3_coarse = c.coarse FROM migration_coarse AS c "
                   "WHERE c.id = t.id")  # fmt: skip
    cursor.execute("DROP TABLE migration_coarse")


def _rebuild_hex_counts() -> None:
    op.execute("DELETE FROM hex_counts")
    for table in CLUSTERED_TABLES:
        op.execute(f"INSERT INTO hex_count_dirty VALUES (DEFAULT, '{table}', {WORLD})")


def upgrade() -> None:
    for table in (*POINT_TABLES, *AREA_TABLES):
        op.add_column(table, sa.Column("h3_coarse", ARRAY(sa.BigInteger()), nullable=True))
        _fill(table)
    _rebuild_hex_counts()
    op.drop_constraint("pk_hex_counts", "hex_counts", type_="primary")
    op.add_column("hex_counts", sa.Column("coarse", ARRAY(sa.BigInteger()), nullable=False))
    op.create_primary_key("pk_hex_counts", "hex_counts", [*KEY, "coarse"])
    # the key's array makes it ~6x larger: reads of a resolution get a small index
    op.create_index("ix_hex_counts_cell", "hex_counts", ["layer", "resolution", "cell"])


def downgrade() -> None:
    _rebuild_hex_counts()
    op.drop_index("ix_hex_counts_cell", table_name="hex_counts")
    op.drop_constraint("pk_hex_counts", "hex_counts", type_="primary")
    op.drop_column("hex_counts", "coarse")
    op.create_primary_key("pk_hex_counts", "hex_counts", list(KEY))
    for table in (*POINT_TABLES, *AREA_TABLES):
        op.drop_column(table, "h3_coarse")
