"""Overdue work: each open record past its due time is announced once, as one event."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from layers.audit.service import lock_event_log
from layers.records.kinds import RecordKind

# Marks and announces in one statement: a record is marked once, so it is announced once,
# however many workers or cron jobs run this at the same time.
_ANNOUNCE = """
WITH due AS (
    UPDATE records SET overdue_at = :at
    WHERE overdue_at IS NULL AND due_at < :at
      AND (kind, state) NOT IN (SELECT k, s FROM unnest(CAST(:kinds AS text[]),
                                                      CAST(:states AS text[])) AS c(k, s))
      AND kind = ANY(CAST(:open_kinds AS text[]))
    RETURNING id, kind, state, due_at, geom
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
    """Raise one ``record.overdue`` event for each open record newly past due at ``at``."""
    closed = [(k.id, s) for k in kinds for s in k.workflow.closed]
    lock_event_log(session)
    announced = session.execute(text(_ANNOUNCE), {
        "at": at, "kinds": [k for k, _ in closed], "states": [s for _, s in closed],
        "open_kinds": [k.id for k in kinds],
    }).all()  # fmt: skip
    return len(announced)
