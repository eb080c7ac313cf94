"""Inspections, self-checks and safety assessments: filled-in forms about a feature."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from layers.accounts.roles import Role
from layers.records.kinds import RecordKind
from layers.records.workflow import Workflow, step


class SubmissionDetails(BaseModel):
    """A filled-in form: the template version it answers, the answers and their score."""

    model_config = ConfigDict(extra="forbid")

    template: str = Field(max_length=64)
    template_version: int = Field(ge=1)
    answers: dict[str, Any]
    score: int
    max_score: int
    passed: bool
    failed_items: list[str]
    hazards: list[int] = Field(default_factory=list)


_POLICE = (Role.OFFICER, Role.COMMANDER)

SUBMISSION_WORKFLOW = Workflow(
    states=("submitted", "reviewed", "returned"),
    steps=(
        step("review", "submitted", "reviewed", roles=_POLICE, title="审阅"),
        step("return", "submitted", "returned", roles=_POLICE, title="退回"),
    ),
    titles={"submitted": "已提交", "reviewed": "已审阅", "returned": "已退回"},
    closed=frozenset({"reviewed", "returned"}),
)


def _submission(kind_id: str, title: str, creators: tuple[Role, ...]) -> RecordKind:
    return RecordKind(id=kind_id, title=title, workflow=SUBMISSION_WORKFLOW,
                      details=SubmissionDetails, creators=frozenset(creators))  # fmt: skip


INSPECTION = _submission("inspection", "检查", _POLICE)
SELF_CHECK = _submission("self_check", "自查", (Role.UNIT,))
ASSESSMENT = _submission("assessment", "安全评估", _POLICE)
