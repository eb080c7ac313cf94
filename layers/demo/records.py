"""A plausible year of business records for the demo city, generated in SQL.

Tasks in every state, hazards (the open ones give their units a risk), fire-safety
inspections with scores against a form template, notices with read receipts, and
activities — some past, some running now, some ahead. Reproducible from the seed.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from layers.records.hazards import HAZARD_WORKFLOW, recount_feature_risks
from layers.records.tasks import TASK_WORKFLOW

FIRE_FORM = {
    "type": "object",
    "required": ["exits_clear", "extinguishers_ok", "alarm_ok", "wiring_ok"],
    "properties": {
        "exits_clear": {"type": "boolean", "title": "安全出口畅通"},
        "extinguishers_ok": {"type": "boolean", "title": "灭火器有效"},
        "alarm_ok": {"type": "boolean", "title": "火灾报警系统正常"},
        "wiring_ok": {"type": "boolean", "title": "电气线路规范"},
    },
    "additionalProperties": False,
}
FIRE_SCORING = {
    "items": {
        "exits_clear": {"points": 30, "hazard": {"level": 3, "category": "fire"}},
        "extinguishers_ok": {"points": 25, "hazard": {"level": 2, "category": "fire"}},
        "alarm_ok": {"points": 25, "hazard": {"level": 2, "category": "fire"}},
        "wiring_ok": {"points": 20, "hazard": {"level": 2, "category": "electrical"}},
    },
    "pass_mark": 60,
}


def _per_unit(columns: str, values: str, draws: str, where: str) -> str:
    """Return SQL making a record (``columns`` <- ``values``) for each unit ``where`` picks.

    The record is at the unit's place, in its jurisdiction and linked to it; ``draws``
    is a lateral SELECT of the random values it is made of (``c``: when it was created).
    """
    return f"""
WITH picked AS MATERIALIZED (
    SELECT nextval(pg_get_serial_sequence('records', 'id')) AS rid, u.id AS uid, u.geom,
           u.district_id, u.precinct_id, u.name, t.*
    FROM units AS u, LATERAL ({draws}) AS t
    WHERE {where}
), made AS (
    INSERT INTO records (id, {columns}, geom, district_id, precinct_id)
    SELECT rid, {values}, geom, district_id, precinct_id FROM picked
)
INSERT INTO record_links (record_id, layer, feature_id) SELECT rid, 'units', uid FROM picked
"""  # noqa: S608 fragments from this module's constants


def _one_of(name: str) -> str:
    """Return SQL picking one element of the text array parameter ``name`` at random."""
    array = f"CAST(:{name} AS text[])"
    return f"({array})[1 + floor(random() * cardinality({array}))::int]"


_YEAR = "SELECT CAST(:now AS timestamptz) - random() * interval '365 days' AS c"
_ANSWERS = """
SELECT c, a, b, d, e, 30 * a::int + 25 * b::int + 25 * d::int + 20 * e::int AS score
FROM (SELECT CAST(:now AS timestamptz) - random() * interval '365 days' AS c,
             random() < 0.9 AS a, random() < 0.85 AS b, random() < 0.9 AS d,
             random() < 0.8 AS e) AS x
"""
_FAILED = """to_jsonb(array_remove(ARRAY[
    CASE WHEN NOT a THEN 'exits_clear' END, CASE WHEN NOT b THEN 'extinguishers_ok' END,
    CASE WHEN NOT d THEN 'alarm_ok' END, CASE WHEN NOT e THEN 'wiring_ok' END], NULL))"""
_COMMON = "kind, topic, state, title, priority, due_at, details, created_at, updated_at"
_TASK = f"""'task', 'internal_security', {_one_of("task_states")}, {_one_of("task_titles")},
    1 + floor(random() * 4)::int, c + interval '14 days',
    jsonb_build_object('task_kind', {_one_of("task_kinds")}), c, c"""
_HAZARD = f"""'hazard', 'internal_security',
    CASE WHEN c < :now - interval '60 days' AND random() < 0.85 THEN 'verified'
         ELSE {_one_of("hazard_states")} END,
    {_one_of("hazard_titles")}, 2, c + interval '15 days',
    jsonb_build_object('level', 1 + floor(random() * random() * 4)::int,
                       'category', {_one_of("hazard_categories")}), c, c"""
_INSPECTION = f"""'inspection', 'internal_security', 'reviewed', '消防安全检查表',
    jsonb_build_object('template', 'fire_safety', 'template_version', 1,
        'answers', jsonb_build_object('exits_clear', a, 'extinguishers_ok', b,
                                      'alarm_ok', d, 'wiring_ok', e),
        'score', score, 'max_score', 100, 'passed', score >= 60,
        'failed_items', {_FAILED}, 'hazards', '[]'::jsonb), c, c"""
_ACTIVITY = f"""'activity', 'internal_security',
    CASE WHEN s + interval '8 hours' < :now THEN 'finished' ELSE 'approved' END,
    {_one_of("activity_titles")},
    jsonb_build_object('organiser', name, 'expected_size', 500 + floor(random() * 5000)::int),
    s, s + interval '8 hours', s - interval '10 days', s - interval '10 days'"""
_RUNNING_NOW = "SELECT CAST(:now AS timestamptz) - random() * interval '6 hours' AS s"
_ACTIVITY_START = (
    "SELECT CAST(:now AS timestamptz) - interval '330 days' + random() * interval '360 days' AS s"
)
_FORM = """
INSERT INTO form_templates (code, version, form_kind, title, schema, scoring)
VALUES ('fire_safety', 1, 'inspection', '消防安全检查表', CAST(:form AS jsonb),
        CAST(:scoring AS jsonb))
ON CONFLICT (code, version) DO NOTHING
"""
_HISTORY = """
INSERT INTO record_transitions (record_id, action, from_state, to_state, actor_name, note, at)
SELECT id, 'create', NULL, state, 'demo', '演示数据', created_at FROM records
"""
_NOTICES = """
WITH sent AS (
    INSERT INTO records (kind, topic, state, title, details, created_at, updated_at)
    SELECT 'notice', 'internal_security', 'sent', '安全提示第' || n || '期',
           jsonb_build_object('body', '请各单位落实安全防范措施，做好自查自纠。', 'recipients', 0),
           :now - (n * interval '15 days'), :now - (n * interval '15 days')
    FROM generate_series(1, 24) AS n
    RETURNING id, created_at
)
INSERT INTO messages (recipient_type, recipient_id, record_id, reason, created_at, read_at)
SELECT 'unit', u.id, s.id, 'notice.sent', s.created_at,
       CASE WHEN random() < 0.6 THEN s.created_at + random() * interval '3 days' END
FROM sent AS s JOIN units AS u ON u.is_key_unit
"""
_RECEIPTS = """
UPDATE records AS r SET details = jsonb_set(r.details, '{recipients}', to_jsonb(m.n))
FROM (SELECT record_id, count(*) AS n FROM messages GROUP BY record_id) AS m
WHERE m.record_id = r.id AND r.kind = 'notice'
"""
_WORK = (
    _per_unit(_COMMON, _TASK, _YEAR, "random() < 0.4"),
    _per_unit(_COMMON, _HAZARD, _YEAR, "random() < 0.15"),
    _per_unit("kind, topic, state, title, details, created_at, updated_at", _INSPECTION,
              _ANSWERS, "random() < 0.3"),
    _per_unit("kind, topic, state, title, details, starts_at, ends_at, created_at, updated_at",
              _ACTIVITY, _ACTIVITY_START,
              "u.category IN ('mall', 'school', 'hotel') AND random() < 0.05"),
    # a few running now, for the map of what runs today
    _per_unit("kind, topic, state, title, details, starts_at, ends_at, created_at, updated_at",
              _ACTIVITY, _RUNNING_NOW, "u.category = 'mall' AND random() < 0.02"),
)  # fmt: skip
_AFTER_WORK = (_HISTORY, _NOTICES, _RECEIPTS)


def load_demo_records(
    session: Session, *, seed: int, now: datetime, rounds: int = 1
) -> dict[str, int]:
    """Generate the demo year of records in ``session``; return how many of each kind.

    ``rounds`` draws the year's tasks, hazards, inspections and activities that many
    times over (benchmarks use it for millions of records).
    """
    session.execute(text(
        "TRUNCATE records, record_links, record_transitions, record_comments, messages, "
        "feature_risks, record_attachments, attachment_contents, record_personal_index"
    ))  # fmt: skip
    session.execute(text("SELECT setseed(:s)"), {"s": (seed % 1000) / 1000})
    params = {
        "now": now, "form": json.dumps(FIRE_FORM), "scoring": json.dumps(FIRE_SCORING),
        "task_states": list(TASK_WORKFLOW.states), "hazard_states": list(HAZARD_WORKFLOW.states),
        "task_titles": ["消防安全检查", "节前安全检查", "重点部位巡查", "安保措施落实"],
        "task_kinds": ["inspection", "security", "important"],
        "hazard_titles": ["消防通道堵塞", "灭火器过期", "电线私拉乱接", "监控设备损坏"],
        "hazard_categories": ["fire", "electrical", "public_security", "structural"],
        "activity_titles": ["周年庆典", "促销活动", "文艺演出", "运动会"],
    }  # fmt: skip
    for statement in (_FORM, *(_WORK * rounds), *_AFTER_WORK):
        session.execute(text(statement), params)
    recount_feature_risks(session)
    # the first statements after the load (records following their place) want statistics
    session.execute(text("ANALYZE records, record_links"))
    rows = session.execute(text("SELECT kind, count(*) FROM records GROUP BY kind"))
    return {kind: int(n) for kind, n in rows}
