"""Many records at once: one of a kind for each of thousands of features, set-based.

Each record is placed at its own feature and in its jurisdiction, gets its link and its
first step, reaches its assignees' inboxes; the whole batch is one audit record (listing
every id) and one event, so 5,000 tasks are a handful of statements, not 5,000 writes.
"""

from __future__ import annotations

import json
from itertools import groupby

from sqlalchemy import text
from sqlalchemy.orm import Session

from layers.accounts.scope import Actor
from layers.audit.service import append_event, record_audit
from layers.errors import InvalidInput
from layers.features.registry import get_layer
from layers.records.kinds import RecordKind
from layers.records.messages import send_messages_bulk
from layers.records.personal import refuse_bulk_personal
from layers.records.service import NewRecord, checked_new, recipients_in

_INSERT = """
INSERT INTO records (id, kind, topic, state, title, priority, due_at, starts_at, ends_at,
                     details, geom, district_id, precinct_id, created_by)
SELECT f.record_id, :kind, :topic, :state, :title, :priority, :due_at, :starts_at, :ends_at,
       CAST(:details AS jsonb), {point}, t.district_id, t.precinct_id, :created_by
FROM unnest(CAST(:record_ids AS bigint[]), CAST(:feature_ids AS bigint[]))
     AS f(record_id, feature_id)
JOIN {table} AS t ON t.id = f.feature_id
"""

_LINKS = """
INSERT INTO record_links (record_id, layer, feature_id)
SELECT unnest(CAST(:record_ids AS bigint[])), :layer, unnest(CAST(:feature_ids AS bigint[]))
"""

_FIRST_STEPS = """
INSERT INTO record_transitions (record_id, action, from_state, to_state, actor_id, actor_name)
SELECT unnest(CAST(:record_ids AS bigint[])), 'create', NULL, :state, :actor_id, :actor_name
"""


def create_per_feature(
    *, session: Session, kind: RecordKind, new: NewRecord, actor: Actor
) -> list[int]:
    """Create one record of ``kind`` for each of ``new.features``; return their ids."""
    if kind.after_write is not None:
        raise InvalidInput(f"{kind.title}记录 are created one at a time, not in bulk")
    details, features = checked_new(session, kind, new, actor)
    refuse_bulk_personal(kind, details)
    record_ids = list(session.scalars(
        text("SELECT nextval(pg_get_serial_sequence('records', 'id')) "
             "FROM generate_series(1, :n)"), {"n": len(features)},
    ))  # fmt: skip
    by_record = dict(zip(record_ids, features, strict=True))
    common = {
        "kind": kind.id, "topic": new.topic, "state": kind.workflow.initial,
        "title": new.title, "priority": new.priority, "due_at": new.due_at,
        "starts_at": new.starts_at, "ends_at": new.ends_at, "details": json.dumps(details),
        "created_by": actor.user_id,
    }  # fmt: skip
    ordered = sorted(by_record.items(), key=lambda item: item[1].layer)
    for layer, group in groupby(ordered, key=lambda item: item[1].layer):
        pairs = list(group)
        ids = {"record_ids": [r for r, _ in pairs], "feature_ids": [f.id for _, f in pairs]}
        spec = get_layer(layer)
        point = "t.geom" if spec.geometry_type == "Point" else "ST_PointOnSurface(t.geom)"
        session.execute(text(_INSERT.format(point=point, table=spec.table)), {**common, **ids})
        session.execute(text(_LINKS), {**ids, "layer": layer})
    steps = {"record_ids": record_ids, "state": kind.workflow.initial,
             "actor_id": actor.user_id, "actor_name": actor.username}  # fmt: skip
    session.execute(text(_FIRST_STEPS), steps)
    recipients = recipients_in(details, actor.user_id, kind.notify_on_create)
    if recipients:
        send_messages_bulk(session, record_ids, recipients, f"{kind.id}.create")
    record_audit(session, actor=actor, action=f"{kind.id}.bulk_create", target_type=kind.id,
                 detail=f"{len(record_ids)} records, one per feature",
                 after={"record_ids": record_ids, "title": new.title,
                        "features": [[f.layer, f.id] for f in features]})  # fmt: skip
    bounds = session.execute(text(
        "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
        "(SELECT ST_Extent(geom) AS e FROM records WHERE id = ANY(CAST(:ids AS bigint[]))) AS x"
    ), {"ids": record_ids}).one()  # fmt: skip
    append_event(session, type="record.bulk_created", actor=actor,
                 bounds=tuple(bounds) if bounds[0] is not None else None,
                 payload={"kind": kind.id, "count": len(record_ids),
                          "first_id": record_ids[0], "last_id": record_ids[-1]})  # fmt: skip
    return record_ids
