"""perimeter contents: incidents and bus stations read cell by cell from their indexes

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-03

A perimeter's contents read each point layer through the perimeter's H3 cells, one index
probe per cell. Incidents (by cell and time: the perimeter's window) and bus stations
get an index holding what they are counted and scoped by and their points, as units
have (``ix_units_h3_cell_contents``): no visit to the table, and no walk of every entry
of a layer's cell index in a merge join.
"""

from __future__ import annotations

from alembic import op

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None

_SCOPED = ["district_id", "precinct_id", "geom"]


def upgrade() -> None:
    """Create the incidents' and bus stations' covering cell indexes."""
    op.create_index("ix_incidents_h3_cell_contents", "incidents", ["h3_cell", "occurred_at"],
                    postgresql_include=["id", *_SCOPED])  # fmt: skip
    op.create_index("ix_bus_stations_h3_cell_contents", "bus_stations", ["h3_cell", "id"],
                    postgresql_include=_SCOPED)  # fmt: skip


def downgrade() -> None:
    """Drop them."""
    op.drop_index("ix_bus_stations_h3_cell_contents", table_name="bus_stations")
    op.drop_index("ix_incidents_h3_cell_contents", table_name="incidents")
