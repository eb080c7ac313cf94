"""the live event stream: events announced to listeners as they commit

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-03

Every insert into ``events`` (the write doors, the overdue announcer, vehicle moves,
psql alike) draws its id under the event log's advisory lock, which is held until
commit, so ids become visible in id order: a reader that has seen id N and asks for
``id > N`` misses nothing that commits later. Each event about a feature keeps the
feature's district and precinct as it was written (deleted features: where they last
were), so the stream and replay can scope it after the feature is gone. A statement
trigger ``NOTIFY warroom_events`` with the highest id it inserted; PostgreSQL delivers it
to every worker once the transaction commits. ``events.at`` is indexed for replay by time.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

CHANNEL = "warroom_events"
LOCK_KEY = 0x57415252  # layers.audit.service: the lock of the audit chain and event log
# Layer ids are their table names (as in 0018).
FEATURE_TABLES = (
    "districts", "precincts", "units", "parks", "rail_stations", "bus_stations",
    "construction_sites", "key_station_areas", "incidents", "vehicles",
)  # fmt: skip

# One static lookup per layer: PL/pgSQL keeps their plans (a dynamic EXECUTE would plan
# every row anew: 5,000 vehicle moves cost 270 ms more instead of 60).
_LOOKUPS = "\n    ELS".join(
    f"""IF NEW.layer = '{table}' THEN
        SELECT f.district_id, f.precinct_id INTO NEW.district_id, NEW.precinct_id
        FROM {table} AS f WHERE f.id = NEW.feature_id;"""
    for table in FEATURE_TABLES
)
# The default id was drawn before this trigger ran, perhaps before the lock: drawn again
# under it. The feature's row gives its jurisdiction; a row deleted in this transaction
# (or earlier) has its last event's, and a feature never evented before its box's centre.
_BEFORE_INSERT = f"""
CREATE FUNCTION events_before_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock({LOCK_KEY});
    NEW.id := nextval('events_id_seq');
    IF NEW.feature_id IS NULL OR NEW.district_id IS NOT NULL OR NEW.precinct_id IS NOT NULL THEN
        RETURN NEW;
    END IF;
    {_LOOKUPS}
    ELSE
        RETURN NEW;
    END IF;
    IF NOT FOUND THEN
        SELECT e.district_id, e.precinct_id INTO NEW.district_id, NEW.precinct_id
        FROM events AS e WHERE e.layer = NEW.layer AND e.feature_id = NEW.feature_id
        ORDER BY e.id DESC LIMIT 1;
    END IF;
    IF NOT FOUND AND NEW.bbox IS NOT NULL THEN
        SELECT p.district_id, p.id INTO NEW.district_id, NEW.precinct_id
        FROM precincts AS p WHERE ST_Intersects(p.geom, ST_Centroid(NEW.bbox))
        ORDER BY p.id LIMIT 1;
    END IF;
    RETURN NEW;
END $$
"""
_NOTIFY = f"""
CREATE FUNCTION events_announce() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    newest bigint := (SELECT max(id) FROM new_events);
BEGIN
    IF newest IS NOT NULL THEN
        PERFORM pg_notify('{CHANNEL}', newest::text);
    END IF;
    RETURN NULL;
END $$
"""
_BACKFILL = """
UPDATE events AS e SET district_id = f.district_id, precinct_id = f.precinct_id
FROM {table} AS f WHERE e.layer = '{table}' AND e.feature_id = f.id
"""


def upgrade() -> None:
    """Draw event ids under the lock, keep features' jurisdiction, announce every commit."""
    op.add_column("events", sa.Column("district_id", sa.BigInteger(), nullable=True))
    op.add_column("events", sa.Column("precinct_id", sa.BigInteger(), nullable=True))
    op.create_index("ix_events_at", "events", ["at"], unique=False)
    for table in FEATURE_TABLES:
        op.execute(_BACKFILL.format(table=table))
    op.execute(_BEFORE_INSERT)
    op.execute(_NOTIFY)
    op.execute(
        "CREATE TRIGGER events_before_insert BEFORE INSERT ON events "
        "FOR EACH ROW EXECUTE FUNCTION events_before_insert()"
    )
    op.execute(
        "CREATE TRIGGER events_announce AFTER INSERT ON events REFERENCING NEW TABLE AS "
        "new_events FOR EACH STATEMENT EXECUTE FUNCTION events_announce()"
    )


def downgrade() -> None:
    """Drop the triggers, the jurisdiction columns and the time index."""
    op.execute("DROP TRIGGER events_announce ON events")
    op.execute("DROP TRIGGER events_before_insert ON events")
    op.execute("DROP FUNCTION events_announce()")
    op.execute("DROP FUNCTION events_before_insert()")
    op.drop_index("ix_events_at", table_name="events")
    op.drop_column("events", "precinct_id")
    op.drop_column("events", "district_id")
