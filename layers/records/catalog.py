"""Every record kind the product knows, by id."""

from __future__ import annotations

from dataclasses import replace

from layers.errors import NotFound
from layers.records.activities import ACTIVITY, CONSTRUCTION_START
from layers.records.approvals import APPROVAL, applier
from layers.records.cases import CASE
from layers.records.clues import CLUE
from layers.records.hazards import HAZARD
from layers.records.inspections import ASSESSMENT, INSPECTION, SELF_CHECK
from layers.records.kinds import RecordKind
from layers.records.notices import NOTICE
from layers.records.reactions import becomes_a_task
from layers.records.staff import STAFF_REGISTRATION
from layers.records.support import POLICE_SUPPORT
from layers.records.tasks import TASK


def get_kind(kind_id: str) -> RecordKind:
    """Return the kind called ``kind_id`` or raise ``NotFound`` naming the known kinds."""
    try:
        return KINDS[kind_id]
    except KeyError:
        raise NotFound(f"unknown record kind {kind_id!r}; known: {', '.join(KINDS)}") from None


# Kinds that start or apply others are wired here: kind modules never import each other.
_SUPPORT = replace(POLICE_SUPPORT, on_enter={
    "approved": becomes_a_task(TASK, POLICE_SUPPORT, "police_support", about="reason"),
})  # fmt: skip
_CLUE = replace(CLUE, on_enter={
    "verifying": becomes_a_task(TASK, CLUE, "clue_verification", about="content"),
})  # fmt: skip
_APPROVAL = replace(APPROVAL, on_enter={"approved": applier(get_kind)})
_ALL = (
    TASK, HAZARD, INSPECTION, SELF_CHECK, ASSESSMENT, ACTIVITY, CONSTRUCTION_START, _CLUE,
    STAFF_REGISTRATION, _SUPPORT, NOTICE, _APPROVAL, CASE,
)  # fmt: skip
KINDS: dict[str, RecordKind] = {kind.id: kind for kind in _ALL}
