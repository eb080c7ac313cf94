"""Who the simulation acts as: the role that may take each action, never a stand-in admin.

The simulated people hold no account (their ``user_id`` is None, as the command line's
own actors); the audit log names them ``simulate:<role>``. Records they create carry
no author, which is how the simulation finds its own again (``own_records``).
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Select, exists, select

from layers.accounts.roles import Role
from layers.accounts.scope import CITY, Actor, Scope, ScopeKind
from layers.records.kinds import RecordKind
from layers.records.models import Record, RecordTransition
from layers.records.service import parties_of
from layers.records.workflow import Step, may_take

PREFIX = "simulate:"
COMMANDER = Actor(None, f"{PREFIX}commander", Role.COMMANDER, CITY, "simulate")


def officer_of(precinct_id: int) -> Actor:
    """Return an officer of ``precinct_id``."""
    scope = Scope(ScopeKind.PRECINCT, precinct_id)
    return Actor(None, f"{PREFIX}officer", Role.OFFICER, scope, "simulate")


def unit_user_of(unit_id: int) -> Actor:
    """Return a user of unit ``unit_id``."""
    return Actor(None, f"{PREFIX}unit", Role.UNIT, Scope(ScopeKind.UNIT, unit_id), "simulate")


def _candidates(record: Record) -> Iterator[Actor]:
    """Yield who might take a record's next step: its unit, its precinct's officer, a commander."""
    for assignee in record.details.get("assignees", ()):
        if assignee["type"] == "unit":
            yield unit_user_of(int(assignee["id"]))
    if record.precinct_id is not None:
        yield officer_of(record.precinct_id)
    yield COMMANDER


def actor_for_step(record: Record, kind: RecordKind, step: Step) -> Actor | None:
    """Return the first of the record's people whose role or party may take ``step`` unasked.

    "Unasked": a step the kind wants approved for that actor (closing a high-level
    hazard as an officer) passes to the next candidate, a commander.
    """
    for actor in _candidates(record):
        if not may_take(step, actor.role, parties_of(record, actor)):
            continue
        if kind.approval is not None and kind.approval(record, step, actor):
            continue
        return actor
    return None


def own_records(kind: RecordKind, states: list[str]) -> Select[int, int]:
    """Return the query of the simulation's own records of ``kind`` in ``states``, newest first."""
    made_here = exists().where(
        RecordTransition.record_id == Record.id, RecordTransition.action == "create",
        RecordTransition.actor_name.startswith(PREFIX, autoescape=True),
    )  # fmt: skip
    return (
        select(Record.id, Record.version)
        .where(Record.kind == kind.id, Record.created_by.is_(None), Record.state.in_(states),
               made_here)
        .order_by(Record.id.desc())
    )  # fmt: skip
