"""Police support requests (警务支援): a unit or station asks for police presence.

Approved, a request becomes a task (wired in ``layers.records.catalog``).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from layers.accounts.roles import Role
from layers.records.kinds import RecordKind
from layers.records.workflow import Party, Workflow, step


class SupportDetails(BaseModel):
    """Why police are wanted, how many people are expected, and who to call."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000)
    expected_size: int | None = Field(default=None, ge=0)
    officers_wanted: int | None = Field(default=None, ge=1, le=1000)
    contact: str | None = Field(default=None, max_length=64)
    task_id: int | None = Field(default=None, description="the task an approval made of it")


POLICE_SUPPORT = RecordKind(
    id="police_support",
    title="警务支援",
    workflow=Workflow(
        states=("requested", "approved", "rejected", "done", "withdrawn"),
        steps=(
            step("approve", "requested", "approved", roles=[Role.COMMANDER], title="批准"),
            step("reject", "requested", "rejected", roles=[Role.COMMANDER], title="不予批准"),
            step("finish", "approved", "done", roles=[Role.OFFICER, Role.COMMANDER], title="完成"),
            step("withdraw", "requested", "withdrawn", parties=[Party.CREATOR], title="撤回"),
        ),
        titles={
            "requested": "已申请",
            "approved": "已批准",
            "rejected": "不予批准",
            "done": "已完成",
            "withdrawn": "已撤回",
        },
        closed=frozenset({"rejected", "done", "withdrawn"}),
    ),
    details=SupportDetails,
    creators=frozenset({Role.UNIT, Role.OFFICER, Role.COMMANDER}),
    topics=("internal_security", "public_transport", "tourism"),
)
