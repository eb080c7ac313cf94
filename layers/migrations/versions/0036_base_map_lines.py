"""base map lines: rail lines, roads and water as feature layers

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-03

Three layers for the base map (``core/basemap.js``): ``rail_lines`` (a line's name,
operator code and colour) and ``roads`` (the demo's roads, or bus routes standing for the
road network), both lines, and ``water`` (lakes, reservoirs, rivers: areas with an H3
cover like every area layer). They are feature layers like the others, and get what every
feature table has: the GiST index on ``geom``, the grams trigger and index on ``name``
(0011), the tile caches told of every change (0002's ``feature_rows_changed``),
jurisdiction reassigned when boundaries change (0015's ``reassign_jurisdiction``, with a
loop over these three), records placed on them following them (0019) and events about
them keeping their jurisdiction (0026's ``events_before_insert``). Both functions are
rebuilt from their migrations' text with the three tables added; downgrading puts the old
text back.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0036"
down_revision = "0035"
branch_labels = None
depends_on = None

LINE_TABLES = ("rail_lines", "roads")
BASE_TABLES = ("water", *LINE_TABLES)
_TRIGGERS = (  # 0002's statement triggers
    ("insert", "INSERT", "REFERENCING NEW TABLE AS new_rows"),
    ("update", "UPDATE", "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    ("delete", "DELETE", "REFERENCING OLD TABLE AS old_rows"),
    ("truncate", "TRUNCATE", ""),
)


def _migration(stem: str) -> ModuleType:
    """Return an earlier migration module of this folder (file names start with digits)."""
    path = Path(__file__).with_name(f"{stem}.py")
    spec = importlib.util.spec_from_file_location(f"_warroom_migration_{stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _reassign(with_lines: bool) -> str:
    """Return 0015's ``reassign_jurisdiction``, with a loop over the base-map tables added.

    A line's or a river's box reaches far beyond its representative point: such a feature
    is taken when that point (not its box) lies in the changed area, or it would lose its
    precinct whenever a boundary its box crosses changed.
    """
    old = _migration("0015_jurisdiction_area_in_the_index_scan")
    text: str = old._REASSIGN
    if with_lines:
        end = "\nEND $$"
        assert text.rstrip().endswith(end.strip())
        loop = f"""
    FOREACH layer IN ARRAY ARRAY{list(BASE_TABLES)!r} LOOP
        EXECUTE format($f${old._FEATURES}$f$, layer, 'ST_PointOnSurface(f.geom)',
                       replace(region, 'f.geom', 'ST_PointOnSurface(f.geom)'), candidates)
            USING area, moved;
    END LOOP;"""
        head, _, tail = text.rpartition(end)
        text = head + loop + end + tail
    return text


def _events_before_insert(with_lines: bool) -> str:
    """Return 0026's ``events_before_insert``, with a lookup for each base-map table."""
    old = _migration("0026_event_stream")
    text: str = old._BEFORE_INSERT.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)
    if with_lines:
        tail = "\n    ELSE\n        RETURN NEW;\n    END IF;"
        assert tail in text
        lookups = "".join(
            f"""
    ELSIF NEW.layer = '{table}' THEN
        SELECT f.district_id, f.precinct_id INTO NEW.district_id, NEW.precinct_id
        FROM {table} AS f WHERE f.id = NEW.feature_id;"""
            for table in BASE_TABLES
        )
        text = text.replace(tail, lookups + tail, 1)
    return text


def _feature_columns() -> list[sa.Column]:
    """Return the columns every feature table has (``layers.base.Feature``)."""
    return [
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("external_id", sa.String(length=128, collation="C"), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_grams", postgresql.ARRAY(sa.Integer()), nullable=True),
        sa.Column("h3_cell", sa.BigInteger(), nullable=True),
        sa.Column("h3_coarse", postgresql.ARRAY(sa.BigInteger()), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("district_id", sa.BigInteger(), nullable=True),
        sa.Column("precinct_id", sa.BigInteger(), nullable=True),
    ]  # fmt: skip


def _geometry(kind: str) -> sa.Column:
    return sa.Column(
        "geom",
        geoalchemy2.types.Geometry(geometry_type=kind, srid=4326, spatial_index=False,
                                   nullable=False),
        nullable=False,
    )  # fmt: skip


def _create_table(table: str, kind: str, *columns: sa.Column) -> None:
    op.create_table(
        table,
        _geometry(kind),
        *columns,
        *_feature_columns(),
        sa.ForeignKeyConstraint(["district_id"], ["districts.id"],
                                name=f"fk_{table}_district_id_districts",
                                initially="DEFERRED", deferrable=True),
        sa.ForeignKeyConstraint(["precinct_id"], ["precincts.id"],
                                name=f"fk_{table}_precinct_id_precincts",
                                initially="DEFERRED", deferrable=True),
        sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
        sa.UniqueConstraint("external_id", name=f"uq_{table}_external_id"),
    )  # fmt: skip
    op.create_index(f"ix_{table}_geom", table, ["geom"], postgresql_using="gist")
    op.create_index(f"ix_{table}_name_grams", table, ["name_grams"], postgresql_using="gin",
                    postgresql_where=sa.text("name_grams IS NOT NULL"))  # fmt: skip
    for column in ("h3_cell", "district_id", "precinct_id"):
        op.create_index(f"ix_{table}_{column}", table, [column])
    if kind == "MULTIPOLYGON":
        op.create_index(f"ix_{table}_h3_cover", table, ["h3_cover"], postgresql_using="gin")
    op.execute(f"CREATE TRIGGER {table}_grams BEFORE INSERT OR UPDATE OF name, name_grams "
               f"ON {table} FOR EACH ROW EXECUTE FUNCTION feature_grams_name()")  # fmt: skip
    for name, event, referencing in _TRIGGERS:
        op.execute(
            f"CREATE TRIGGER {table}_changed_{name} AFTER {event} ON {table} {referencing} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION feature_rows_changed('{table}', false)"
        )
    op.execute(
        f"CREATE TRIGGER {table}_records_follow AFTER UPDATE ON {table} "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
        f"EXECUTE FUNCTION records_follow_place('{table}', false)"
    )


def upgrade() -> None:
    """Create the base-map layers with every feature table's indexes and triggers."""
    _create_table(
        "water",
        "MULTIPOLYGON",
        sa.Column("kind", sa.String(length=16, collation="C"), nullable=False),
        sa.Column("h3_cover", postgresql.ARRAY(sa.BigInteger()), nullable=True),
    )
    _create_table(
        "rail_lines",
        "MULTILINESTRING",
        sa.Column("code", sa.String(length=32, collation="C"), nullable=True),
        sa.Column("colour", sa.String(length=7), nullable=True),
    )
    _create_table(
        "roads",
        "MULTILINESTRING",
        sa.Column("code", sa.String(length=32, collation="C"), nullable=True),
        sa.Column("kind", sa.String(length=16, collation="C"), nullable=False),
    )
    op.execute(_reassign(with_lines=True))
    op.execute(_events_before_insert(with_lines=True))


def downgrade() -> None:
    """Put the functions back as they were and drop the three layers."""
    op.execute(_events_before_insert(with_lines=False))
    op.execute(_reassign(with_lines=False))
    for table in BASE_TABLES:
        op.drop_table(table)
