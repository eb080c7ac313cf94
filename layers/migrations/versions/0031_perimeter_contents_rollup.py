"""perimeter contents at city scale: units counted per H3 cell

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-03

``unit_cell_counts`` holds how many units each resolution-9 cell has of each category,
risk level, district and precinct (-1: none), kept by one statement trigger on ``units``
(net changes of the statement's rows, in key order, so concurrent writers of one cell
wait on each other instead of deadlocking): a perimeter's contents count the cells
wholly inside a ring from it and test only the units of the cells on a ring's edge.
``ix_units_h3_cell_contents`` gets ``id`` into its key, so the first units of a cell by
id are the first entries of its part of the index.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

_KEYS = "h3_cell, category, risk_level, district_id, precinct_id"
_ROWS = ("SELECT h3_cell, category, risk_level, coalesce(district_id, -1) AS d, "
         "coalesce(precinct_id, -1) AS p, {n} AS n "
         "FROM {table} WHERE h3_cell IS NOT NULL")  # fmt: skip
# The net change of a statement's rows per key (an update that leaves a unit's key alone
# writes nothing), added in key order; the keys left at zero are deleted after.
_APPLY = f"""
    WITH changes AS (
        SELECT h3_cell, category, risk_level, d, p, sum(n) AS n FROM ({{rows}}) AS r
        GROUP BY 1, 2, 3, 4, 5 HAVING sum(n) <> 0
    ), applied AS (
        INSERT INTO unit_cell_counts AS c ({_KEYS}, n)
        SELECT * FROM changes ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT ({_KEYS}) DO UPDATE SET n = c.n + EXCLUDED.n
        RETURNING c.h3_cell, c.n
    )
    SELECT array_agg(h3_cell) FILTER (WHERE n = 0) INTO emptied FROM applied;"""
_ADDED, _REMOVED = _ROWS.format(n=1, table="new_rows"), _ROWS.format(n=-1, table="old_rows")
_CHANGED = f"""
CREATE FUNCTION unit_cells_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    emptied bigint[];
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        TRUNCATE unit_cell_counts;
        RETURN NULL;
    ELSIF TG_OP = 'INSERT' THEN{_APPLY.format(rows=_ADDED)}
    ELSIF TG_OP = 'DELETE' THEN{_APPLY.format(rows=_REMOVED)}
    ELSE{_APPLY.format(rows=f"{_ADDED} UNION ALL {_REMOVED}")}
    END IF;
    IF emptied IS NOT NULL THEN
        DELETE FROM unit_cell_counts WHERE h3_cell = ANY(emptied) AND n = 0;
    END IF;
    RETURN NULL;
END $$
"""
_TRIGGERS = (
    ("insert", "INSERT", "REFERENCING NEW TABLE AS new_rows"),
    ("update", "UPDATE", "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    ("delete", "DELETE", "REFERENCING OLD TABLE AS old_rows"),
    ("truncate", "TRUNCATE", ""),
)
REBUILD = f"""
INSERT INTO unit_cell_counts ({_KEYS}, n)
SELECT h3_cell, category, risk_level, coalesce(district_id, -1), coalesce(precinct_id, -1),
       count(*)
FROM units WHERE h3_cell IS NOT NULL GROUP BY 1, 2, 3, 4, 5
"""


def upgrade() -> None:
    """Create the units' cell counts, fill them, keep them by trigger; re-key the cell index."""
    op.create_table(
        "unit_cell_counts",
        sa.Column("h3_cell", sa.BigInteger(), nullable=False),
        sa.Column("category", sa.String(32, collation="C"), nullable=False),
        sa.Column("risk_level", sa.SmallInteger(), nullable=False),
        sa.Column("district_id", sa.BigInteger(), nullable=False),
        sa.Column("precinct_id", sa.BigInteger(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "h3_cell", "category", "risk_level", "district_id", "precinct_id",
            name=op.f("pk_unit_cell_counts"),
        ),
    )  # fmt: skip
    op.execute(REBUILD)
    op.execute(_CHANGED)
    for name, event, referencing in _TRIGGERS:
        op.execute(f"CREATE TRIGGER units_cells_{name} AFTER {event} ON units {referencing} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION unit_cells_changed()")  # fmt: skip
    op.drop_index("ix_units_h3_cell_contents", table_name="units")
    op.create_index(
        "ix_units_h3_cell_contents", "units", ["h3_cell", "id"],
        postgresql_include=["category", "risk_level", "district_id", "precinct_id", "geom"],
    )  # fmt: skip


def downgrade() -> None:
    """Drop the units' cell counts and their trigger; the cell index as it was."""
    op.drop_index("ix_units_h3_cell_contents", table_name="units")
    op.create_index(
        "ix_units_h3_cell_contents", "units", ["h3_cell"],
        postgresql_include=["id", "category", "risk_level", "district_id", "precinct_id", "geom"],
    )  # fmt: skip
    for name, _, _ in _TRIGGERS:
        op.execute(f"DROP TRIGGER units_cells_{name} ON units")
    op.execute("DROP FUNCTION unit_cells_changed()")
    op.drop_table("unit_cell_counts")
