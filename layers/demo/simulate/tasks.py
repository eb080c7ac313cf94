"""Tasks (任务): an officer hands a unit an inspection; it walks the task workflow.

The officer of the unit's precinct creates the task (a draft assigned to the unit) and
assigns it; the unit's user accepts, starts and submits it; the officer approves it
(sometimes returns it) and archives it — each step as the role or party the workflow
names.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from layers.demo.simulate.actors import officer_of
from layers.demo.simulate.places import random_unit
from layers.demo.simulate.registry import Motion, Outcome, World, register
from layers.demo.simulate.steps import advance, checked_plan
from layers.records.refs import FeatureRef
from layers.records.service import NewRecord, create_record
from layers.records.tasks import TASK, TaskKind

_TITLES = ("消防安全检查", "节前安全检查", "重点部位巡查", "安保措施落实", "视频监控检查")
_KINDS = (TaskKind.INSPECTION, TaskKind.SECURITY, TaskKind.IMPORTANT)
PLAN = checked_plan(TASK, {
    "draft": [("assign", 1.0)],
    "assigned": [("accept", 1.0)],
    "accepted": [("start", 1.0)],
    "in_progress": [("submit", 1.0)],
    "submitted": [("approve", 0.8), ("return", 0.2)],
    "returned": [("start", 1.0)],
    "approved": [("archive", 1.0)],
})  # fmt: skip


def new_task(session: Session, world: World) -> Outcome:
    """Have a precinct's officer draft a task for one of its units, for that unit."""
    unit = random_unit(session, world)
    title = _TITLES[int(world.rng.integers(len(_TITLES)))]
    task_kind = _KINDS[int(world.rng.integers(len(_KINDS)))]
    new = NewRecord(
        title=f"{unit.name}{title}", topic="internal_security",
        features=[FeatureRef("units", unit.id)], priority=1 + int(world.rng.integers(4)),
        due_at=world.now() + timedelta(days=1 + int(world.rng.integers(7))),
        details={"task_kind": task_kind.value, "assignees": [{"type": "unit", "id": unit.id}]},
    )  # fmt: skip
    record = create_record(session=session, kind=TASK, new=new, actor=officer_of(unit.precinct_id))
    return Outcome(f"task {record.id} {record.title}", records=(record.id,))


def step_task(session: Session, world: World) -> Outcome:
    """Take the next step of one of the simulation's open tasks."""
    return advance(session, world, TASK, PLAN)


register(Motion("task.new", 2.0, new_task, "an officer drafts a task for a unit"))
register(Motion("task.step", 5.0, step_task, "a task takes its next workflow step"))
