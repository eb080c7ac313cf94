"""Overdue work: each open record past its due time is announced once: one event, and a
message in the inbox of its creator and each assignee."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from layers.audit.service import lock_event_log
from layers.records.kinds import RecordKind

# Marks, tells and announces in one statement: a record is marked once, so it is announced
# once, however many workers or cron jobs run this at the same time.
_ANNOUNCE = """
WITH due AS (
    UPDATE records SET overdue_at = :at
    WHERE overdue_at IS NULL AND due_at < :at
      AND (kind, state) NOT IN (SELECT k, s FROM unnest(CAST(:kinds AS text[]),
                                                      CAST(:states AS text[])) AS c(k, s))
      AND kind = ANY(CAST(:open_kinds AS text[]))
    RETURNING id, kind, state, due_at, geom, created_by, details
), told AS (
    INSERT INTO messages (recipient_type, recipient_id, record_id, reason)
    SELECT DISTINCT party.type, party.id, due.id, 'overdue'
    FROM due CROSS JOIN LATERAL (
        SELECT 'user' AS type, due.created_by AS id WHERE due.created_by IS NOT NULL
        UNION
        SELECT a ->> 'type', CAST(a ->> 'id' AS bigint)
        FROM jsonb_array_elements(coalesce(due.details -> 'assignees', '[]')) AS a
    ) AS party
)
INSERT INTO events (at, type, layer, feature_id, bbox, payload, actor_id)
SELECT :at, 'record.overdue', NULL, NULL,
       ST_Expand(geom, 1e-9),
       jsonb_build_object('record_id', id, 'kind', kind, 'state', state, 'due_at', due_at),
       NULL
FROM due ORDER BY id
RETURNING id
"""


def announce_overdue(session: Session, kinds: Sequence[RecordKind], at: datetime) -> int:
    """Raise one ``record.overdue`` event and its messages per open record newly past due."""
    closed = [(k.id, s) for k in kinds for s in k.workflow.closed]
    lock_event_log(session)
    announced = session.execute(text(_ANNOUNCE), {
        "at": at, "kinds": [k for k, _ in closed], "states": [s for _, s in closed],
        "open_kinds": [k.id for k in kinds],
    }).all()  # fmt: skip
    return len(announced)
