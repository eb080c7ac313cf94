"""Geofence alerts in the unified inbox: one message per alert to each person it concerns.

Concerned are the commanders and officers whose jurisdiction the alert's perimeter
reaches into (whoever sees the perimeter, as ``layers.perimeters.access`` says: the
city, a district or a precinct the rings touch; never a unit's users) and the
perimeter's author. Sent in the alert's transaction, by one statement for a batch.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.orm import Session

from layers.accounts.roles import Role

CONCERNED_ROLES = (Role.COMMANDER, Role.OFFICER)

# A user's jurisdiction is its unit, else its precinct, else its district, else the city
# (``layers.accounts.service.actor_for``).
_SEND = """
INSERT INTO messages (recipient_type, recipient_id, alert_id, reason)
SELECT DISTINCT 'user', u.id, a.id, 'geofence.' || a.kind
FROM geofence_alerts AS a
JOIN perimeters AS p ON p.id = a.perimeter_id
JOIN users AS u ON u.is_active AND (u.id = p.created_by OR (
    u.role = ANY(CAST(:roles AS text[])) AND u.unit_id IS NULL AND (
        (u.precinct_id IS NOT NULL AND EXISTS (
            SELECT FROM precincts AS b
            WHERE b.id = u.precinct_id AND ST_Intersects(b.geom, p.extent)))
        OR (u.precinct_id IS NULL AND u.district_id IS NOT NULL AND EXISTS (
            SELECT FROM districts AS b
            WHERE b.id = u.district_id AND ST_Intersects(b.geom, p.extent)))
        OR (u.precinct_id IS NULL AND u.district_id IS NULL))))
WHERE a.id = ANY(CAST(:ids AS bigint[]))
ORDER BY a.id, u.id
"""


def send_alert_messages(session: Session, alert_ids: Sequence[int]) -> int:
    """Put each alert in the inbox of everyone it concerns; return how many messages went."""
    if not alert_ids:
        return 0
    sent = session.execute(text(_SEND), {"ids": list(alert_ids),
                                         "roles": [r.value for r in CONCERNED_ROLES]})  # fmt: skip
    return int(sent.rowcount or 0)  # type: ignore[attr-defined]
