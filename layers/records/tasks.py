"""Tasks (任务): work handed to officers or units about features, with a review at the end."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from layers.accounts.roles import Role
from layers.records.kinds import RecordKind
from layers.records.refs import Assignee
from layers.records.workflow import Party, Workflow, step


class TaskKind(StrEnum):
    """What sort of work a task is."""

    INSPECTION = "inspection"
    SECURITY = "security"
    IMPORTANT = "important"
    CLUE_VERIFICATION = "clue_verification"
    POLICE_SUPPORT = "police_support"
    OTHER = "other"


class TaskDetails(BaseModel):
    """What a task carries besides the common record fields."""

    model_config = ConfigDict(extra="forbid")

    task_kind: TaskKind = TaskKind.OTHER
    description: str | None = Field(default=None, max_length=5000)
    assignees: list[Assignee] = Field(default_factory=list, max_length=500)


_LEADS = (Role.COMMANDER, Role.OFFICER)
_OPEN = ("draft", "assigned", "accepted", "in_progress", "returned")

TASK_WORKFLOW = Workflow(
    states=(
        "draft",
        "assigned",
        "accepted",
        "in_progress",
        "submitted",
        "approved",
        "returned",
        "archived",
        "cancelled",
    ),
    steps=(
        step("assign", "draft", "assigned", roles=_LEADS, title="派发", notify=[Party.ASSIGNEE]),
        step("accept", "assigned", "accepted", parties=[Party.ASSIGNEE], title="接收"),
        step(
            "start",
            ("accepted", "returned"),
            "in_progress",
            parties=[Party.ASSIGNEE],
            title="开始办理",
        ),
        step(
            "submit",
            "in_progress",
            "submitted",
            parties=[Party.ASSIGNEE],
            title="提交",
            notify=[Party.CREATOR],
        ),
        step("approve", "submitted", "approved", roles=_LEADS, title="审核通过"),
        step(
            "return", "submitted", "returned", roles=_LEADS, title="退回", notify=[Party.ASSIGNEE]
        ),
        step("archive", "approved", "archived", roles=_LEADS, title="归档"),
        step(
            "cancel",
            _OPEN,
            "cancelled",
            roles=[Role.COMMANDER],
            parties=[Party.CREATOR],
            title="撤销",
        ),
    ),
    titles={
        "draft": "草稿",
        "assigned": "已派发",
        "accepted": "已接收",
        "in_progress": "办理中",
        "submitted": "待审核",
        "approved": "已通过",
        "returned": "已退回",
        "archived": "已归档",
        "cancelled": "已撤销",
    },
    closed=frozenset({"approved", "archived", "cancelled"}),
)

TASK = RecordKind(
    id="task",
    title="任务",
    workflow=TASK_WORKFLOW,
    details=TaskDetails,
    # a planner's tasks (from a perimeter's rings) stay drafts until a lead assigns them
    creators=frozenset({*_LEADS, Role.PLANNER}),
)
