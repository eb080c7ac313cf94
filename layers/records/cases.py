"""Topic cases (专项案件) of environment, food and drug, tobacco and intellectual property.

Each runs clue -> analysis (研判) -> hand-off (流转) -> disposal (处置) -> archive, and
keeps its results — cases, people, goods seized and their value — for the statistics:
given when it is disposed of (or archived), ``{"action": "dispose", "details": {"results":
{...}}}``.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from layers.accounts.roles import Role
from layers.records.kinds import RecordKind
from layers.records.refs import Assignee
from layers.records.workflow import Party, Workflow, step


class Results(BaseModel):
    """What a case achieved (战果)."""

    model_config = ConfigDict(extra="forbid")

    cases: int = Field(default=0, ge=0, le=100_000)
    people: int = Field(default=0, ge=0, le=100_000)
    goods: str | None = Field(default=None, max_length=500)
    value_yuan: float = Field(default=0, ge=0, le=1e12)


class CaseDetails(BaseModel):
    """A topic case: what the clue says, who works it, what came of it."""

    model_config = ConfigDict(extra="forbid")

    summary: str = Field(min_length=1, max_length=5000)
    assignees: list[Assignee] = Field(default_factory=list, max_length=50)
    results: Results = Field(default_factory=Results)


_POLICE = (Role.OFFICER, Role.COMMANDER)
CASE_TOPICS = ("environment", "food_drug", "tobacco", "intellectual_property")

CASE = RecordKind(
    id="case",
    title="专项案件",
    workflow=Workflow(
        states=("clue", "analysis", "handoff", "disposal", "archived"),
        steps=(
            step("analyse", "clue", "analysis", roles=_POLICE, title="研判"),
            step(
                "hand_off",
                "analysis",
                "handoff",
                roles=_POLICE,
                title="流转",
                notify=[Party.ASSIGNEE],
            ),
            step(
                "dispose",
                "handoff",
                "disposal",
                roles=[Role.COMMANDER],
                parties=[Party.ASSIGNEE],
                title="处置",
                fills=["results"],
            ),
            step(
                "archive",
                "disposal",
                "archived",
                roles=[Role.COMMANDER],
                title="归档",
                fills=["results"],
            ),
        ),
        titles={
            "clue": "线索",
            "analysis": "研判",
            "handoff": "流转",
            "disposal": "处置",
            "archived": "归档",
        },
        closed=frozenset({"archived"}),
    ),
    details=CaseDetails,
    creators=frozenset(_POLICE),
    topics=CASE_TOPICS,
)
