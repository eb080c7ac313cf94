"""Activities (大型活动) and construction starts (动工): work that runs over a period.

Both are reported (by the unit, or by an officer for it), approved or acknowledged by
the police, and run from ``starts_at`` to ``ends_at``; the map shows those running now.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from layers.accounts.roles import Role
from layers.records.kinds import RecordKind
from layers.records.workflow import Party, Workflow, step

_POLICE = (Role.OFFICER, Role.COMMANDER)
_REPORTERS = frozenset({*_POLICE, Role.UNIT})


class ActivityDetails(BaseModel):
    """A large event: who organises it, how many are expected, where."""

    model_config = ConfigDict(extra="forbid")

    organiser: str = Field(min_length=1, max_length=200)
    expected_size: int = Field(ge=0, le=10_000_000)
    place: str | None = Field(default=None, max_length=300)
    contact: str | None = Field(default=None, max_length=64)
    description: str | None = Field(default=None, max_length=5000)


class ConstructionDetails(BaseModel):
    """Works starting at a site: what, by whom, under which permit."""

    model_config = ConfigDict(extra="forbid")

    works: str = Field(min_length=1, max_length=500)
    contractor: str = Field(min_length=1, max_length=200)
    permit: str | None = Field(default=None, max_length=64)


ACTIVITY = RecordKind(
    id="activity",
    title="大型活动",
    workflow=Workflow(
        states=("reported", "approved", "rejected", "finished", "cancelled"),
        steps=(
            step("approve", "reported", "approved", roles=_POLICE, title="批准"),
            step("reject", "reported", "rejected", roles=_POLICE, title="不予批准"),
            step(
                "finish",
                "approved",
                "finished",
                roles=_POLICE,
                parties=[Party.CREATOR],
                title="结束",
            ),
            step(
                "cancel",
                ("reported", "approved"),
                "cancelled",
                roles=_POLICE,
                parties=[Party.CREATOR],
                title="取消",
            ),
        ),
        titles={
            "reported": "已报备",
            "approved": "已批准",
            "rejected": "不予批准",
            "finished": "已结束",
            "cancelled": "已取消",
        },
        closed=frozenset({"rejected", "finished", "cancelled"}),
    ),
    details=ActivityDetails,
    creators=_REPORTERS,
)

CONSTRUCTION_START = RecordKind(
    id="construction_start",
    title="动工信息",
    workflow=Workflow(
        states=("reported", "acknowledged", "finished"),
        steps=(
            step("acknowledge", "reported", "acknowledged", roles=_POLICE, title="已知悉"),
            step(
                "finish",
                ("reported", "acknowledged"),
                "finished",
                roles=_POLICE,
                parties=[Party.CREATOR],
                title="完工",
            ),
        ),
        titles={"reported": "已报备", "acknowledged": "已知悉", "finished": "已完工"},
        closed=frozenset({"finished"}),
    ),
    details=ConstructionDetails,
    creators=_REPORTERS,
    topics=("internal_security", "public_transport"),
)
