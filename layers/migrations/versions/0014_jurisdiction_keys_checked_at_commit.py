"""jurisdiction: a feature's links to its precinct and district are checked at commit

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03

Deleting a precinct set ``precinct_id`` of each of its features to NULL (``ON DELETE
SET NULL``, a query per deleted row and table), and then the jurisdiction trigger
(0012) wrote each of them again with the precinct it lies in now: every feature written
twice, 41 s instead of 18 s for a redrawn precinct file moving a tenth of a million
units. The links are now plain keys checked when the transaction commits (``DEFERRABLE
INITIALLY DEFERRED``): the statement's trigger has reassigned the features by then, so
each is written once, and a delete that leaves a feature pointing at nothing fails.
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

FEATURE_TABLES = ("districts", "precincts", "units", "parks", "rail_stations", "bus_stations",
                  "construction_sites", "key_station_areas", "incidents", "vehicles")  # fmt: skip
LINKS = (("district_id", "districts"), ("precinct_id", "precincts"))


def _relink(action: str) -> None:
    for table in FEATURE_TABLES:
        for column, referred in LINKS:
            name = f"fk_{table}_{column}_{referred}"
            op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
            op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({column}) "
                       f"REFERENCES {referred} (id) {action} NOT VALID")  # fmt: skip
            op.execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {name}")


def upgrade() -> None:
    _relink("DEFERRABLE INITIALLY DEFERRED")


def downgrade() -> None:
    _relink("ON DELETE SET NULL")
