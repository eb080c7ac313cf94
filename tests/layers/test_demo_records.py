"""The demo city's year of records: every state shown, and consistent with itself.

Demo records have no creator; other tests add records of their own to the same city.
"""

from __future__ import annotations

from sqlalchemy import Engine, text

from layers.records.tasks import TASK_WORKFLOW


def test_tasks_in_every_state_and_each_record_on_its_unit(engine: Engine, city: None) -> None:
    with engine.connect() as conn:
        states = set(conn.scalars(text("SELECT DISTINCT state FROM records WHERE kind = 'task'")))
        running = conn.scalar(
            text(
                "SELECT count(*) FROM records WHERE kind = 'activity' AND created_by IS NULL"
                " AND starts_at <= now() AND ends_at >= now() AND state = 'approved'"
            )
        )
        misplaced = conn.scalar(
            text(
                "SELECT count(*) FROM records r JOIN record_links l ON l.record_id = r.id "
                "JOIN units u ON u.id = l.feature_id"
                " WHERE r.kind <> 'notice' AND r.created_by IS NULL "
                "AND (NOT ST_Equals(r.geom, u.geom)"
                " OR r.precinct_id IS DISTINCT FROM u.precinct_id)"
            )
        )
        unlinked = conn.scalar(
            text(
                "SELECT count(*) FROM records r WHERE kind <> 'notice' AND NOT EXISTS "
                "(SELECT 1 FROM record_links l WHERE l.record_id = r.id)"
            )
        )
    assert states == set(TASK_WORKFLOW.states)
    assert running > 0
    assert misplaced == 0 and unlinked == 0


def test_risks_scores_and_receipts_agree_with_the_records(engine: Engine, city: None) -> None:
    with engine.connect() as conn:
        wrong_risk = conn.scalar(
            text(
                "SELECT count(*) FROM (SELECT l.feature_id, count(*) n,"
                " max((r.details->>'level')::int) m"
                " FROM records r JOIN record_links l ON l.record_id = r.id"
                " WHERE r.kind = 'hazard' AND r.state <> 'verified' AND l.layer = 'units'"
                " GROUP BY 1) AS open"
                " FULL JOIN (SELECT * FROM feature_risks WHERE layer = 'units') k"
                " ON k.feature_id = open.feature_id"
                " WHERE k.open_hazards IS DISTINCT FROM open.n"
                " OR k.hazard_level IS DISTINCT FROM open.m"
            )
        )
        wrong_score = conn.scalar(
            text(
                "SELECT count(*) FROM records WHERE kind = 'inspection'"
                " AND (details->>'score')::int <>"
                " 30 * (details->'answers'->>'exits_clear')::bool::int"
                " + 25 * (details->'answers'->>'extinguishers_ok')::bool::int"
                " + 25 * (details->'answers'->>'alarm_ok')::bool::int"
                " + 20 * (details->'answers'->>'wiring_ok')::bool::int"
            )
        )
        notices, read, sent = conn.execute(
            text(
                "SELECT count(DISTINCT r.id), count(m.read_at), count(m.id) FROM records r"
                " JOIN messages m ON m.record_id = r.id"
                " WHERE r.kind = 'notice' AND r.created_by IS NULL"
            )
        ).one()
        hazards = conn.scalar(text("SELECT count(*) FROM feature_risks"))
    assert wrong_risk == 0 and hazards > 0
    assert wrong_score == 0
    assert notices == 24 and 0 < read < sent


def test_the_rollup_of_counts_equals_the_records(engine: Engine, city: None) -> None:
    with engine.connect() as conn:
        rollup = set(
            conn.execute(
                text(
                    "SELECT topic, kind, state, district_id, precinct_id, n FROM record_counts"
                    " WHERE n > 0"
                )
            ).all()
        )
        counted = set(
            conn.execute(
                text(
                    "SELECT topic, kind, state, coalesce(district_id, -1),"
                    " coalesce(precinct_id, -1), count(*) FROM records GROUP BY 1, 2, 3, 4, 5"
                )
            ).all()
        )
        negative = conn.scalar(text("SELECT count(*) FROM record_counts WHERE n < 0"))
    # what the statement triggers keep equals what a count finds
    assert rollup == counted and len(rollup) > 100 and negative == 0
