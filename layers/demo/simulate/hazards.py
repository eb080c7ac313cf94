"""Hazards (隐患): an officer finds one at a unit; the unit rectifies it; it is verified.

Closing a level 3-4 hazard is a commander's (an officer would need an approval), so the
simulation verifies those as a commander, the others as the precinct's officer.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from layers.demo.simulate.actors import officer_of
from layers.demo.simulate.places import random_unit
from layers.demo.simulate.registry import Motion, Outcome, World, register
from layers.demo.simulate.steps import advance, checked_plan
from layers.records.hazards import HAZARD, HazardCategory
from layers.records.refs import FeatureRef
from layers.records.service import NewRecord, create_record

_FOUND = (
    ("消防通道堵塞", HazardCategory.FIRE), ("灭火器过期", HazardCategory.FIRE),
    ("电线私拉乱接", HazardCategory.ELECTRICAL), ("监控设备损坏", HazardCategory.PUBLIC_SECURITY),
    ("外墙空鼓", HazardCategory.STRUCTURAL), ("出入口人员拥挤", HazardCategory.CROWD),
)  # fmt: skip
PLAN = checked_plan(HAZARD, {
    "found": [("rectify", 1.0)],
    "rectifying": [("report", 1.0)],
    "rectified": [("verify", 0.9), ("reopen", 0.1)],
    "reopened": [("rectify", 1.0)],
})  # fmt: skip


def find_hazard(session: Session, world: World) -> Outcome:
    """Have a precinct's officer record a hazard at one of its units, for the unit to fix."""
    unit = random_unit(session, world)
    title, category = _FOUND[int(world.rng.integers(len(_FOUND)))]
    level = 1 + int(world.rng.choice(4, p=[0.4, 0.35, 0.18, 0.07]))
    new = NewRecord(
        title=f"{unit.name}{title}", topic="internal_security",
        features=[FeatureRef("units", unit.id)],
        due_at=world.now() + timedelta(days=3 + int(world.rng.integers(12))),
        details={"level": level, "category": category.value,
                 "assignees": [{"type": "unit", "id": unit.id}]},
    )  # fmt: skip
    record = create_record(session=session, kind=HAZARD, new=new,
                           actor=officer_of(unit.precinct_id))  # fmt: skip
    return Outcome(f"hazard {record.id} level {level} {record.title}", records=(record.id,))


def step_hazard(session: Session, world: World) -> Outcome:
    """Take the next step of one of the simulation's open hazards."""
    return advance(session, world, HAZARD, PLAN)


register(Motion("hazard.new", 1.0, find_hazard, "an officer finds a hazard at a unit"))
register(Motion("hazard.step", 2.0, step_hazard, "a hazard rectified, reported, verified"))
