"""Moving a record along its kind's workflow, as the person whose step it is.

A plan says which actions the simulation takes from each state, and how likely each
is (a submitted task is mostly approved, sometimes returned). Every planned action is
checked against the workflow when the plan is made, and taken through
``transition_record`` — the same door, role check, audit and event as a person's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy.orm import Session

from layers.demo.simulate.actors import actor_for_step, own_records
from layers.demo.simulate.registry import NothingToDo, Outcome, World
from layers.records.kinds import RecordKind
from layers.records.models import Record
from layers.records.service import transition_record

Plan = Mapping[str, Sequence[tuple[str, float]]]  # state -> (action, weight), ...
_RECENT = 200  # the newest movable records of the simulation, one of which moves on


def checked_plan(kind: RecordKind, plan: Plan) -> Plan:
    """Return ``plan`` if every action is a step of the kind's workflow from its state."""
    for state, actions in plan.items():
        for action, _ in actions:
            if kind.workflow.step(state, action) is None:
                raise ValueError(f"{kind.id}: no step {action!r} from state {state!r}")
    return plan


def advance(session: Session, world: World, kind: RecordKind, plan: Plan) -> Outcome:
    """Take the next step of one of the simulation's recent movable records of ``kind``."""
    rows = session.execute(own_records(kind, list(plan)).limit(_RECENT)).all()
    if not rows:
        raise NothingToDo(f"no {kind.id} of the simulation to move")
    record_id, version = rows[int(world.rng.integers(len(rows)))]
    record = session.get_one(Record, record_id)
    actions = plan[record.state]
    weights = [w for _, w in actions]
    action = actions[int(world.rng.choice(len(actions), p=[w / sum(weights) for w in weights]))][0]
    step = kind.workflow.step(record.state, action)
    assert step is not None  # checked_plan
    actor = actor_for_step(record, kind, step)
    if actor is None:
        raise NothingToDo(f"nobody may {action} {kind.id} {record_id}")
    before = record.state
    transition_record(session=session, kind=kind, record_id=record_id, action=action,
                      expected_version=version, actor=actor, note="演示模拟")  # fmt: skip
    return Outcome(f"{kind.id} {record_id} {action} ({actor.role.value}): {before} -> "
                   f"{record.state}", records=(record_id,),
                   transitions=((record_id, action, before, record.state),))  # fmt: skip
