"""Clues (线索核查): a tip about a place, verified by the police, its result kept.

Taken into verification, a clue becomes a clue-verification task for its assignees
(wired in ``layers.records.catalog``; the clue keeps its ``task_id``); whoever confirms
or dismisses it writes the ``result``.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from layers.accounts.roles import Role
from layers.records.kinds import RecordKind
from layers.records.refs import Assignee
from layers.records.workflow import Party, Workflow, step


class ClueSource(StrEnum):
    """Where a clue came from."""

    HOTLINE = "hotline"
    PATROL = "patrol"
    INFORMANT = "informant"
    ONLINE = "online"
    UNIT = "unit"
    OTHER = "other"


class ClueDetails(BaseModel):
    """What the tip says, where it came from, and who verifies it."""

    model_config = ConfigDict(extra="forbid")

    source: ClueSource
    content: str = Field(min_length=1, max_length=5000)
    informant: str | None = Field(default=None, max_length=64)
    assignees: list[Assignee] = Field(default_factory=list, max_length=50)
    task_id: int | None = Field(default=None, description="the task verifying it")
    result: str | None = Field(
        default=None, min_length=1, max_length=5000, description="what was found"
    )


_POLICE = (Role.OFFICER, Role.COMMANDER)

CLUE = RecordKind(
    id="clue",
    title="线索核查",
    workflow=Workflow(
        states=("received", "verifying", "confirmed", "unfounded", "archived"),
        steps=(
            step("verify", "received", "verifying", roles=_POLICE, title="开始核查"),
            step(
                "confirm",
                "verifying",
                "confirmed",
                roles=[Role.COMMANDER],
                parties=[Party.ASSIGNEE],
                title="核查属实",
                fills=["result"],
            ),
            step(
                "dismiss",
                "verifying",
                "unfounded",
                roles=[Role.COMMANDER],
                parties=[Party.ASSIGNEE],
                title="核查不实",
                fills=["result"],
            ),
            step("archive", ("confirmed", "unfounded"), "archived", roles=_POLICE, title="归档"),
        ),
        titles={
            "received": "已接收",
            "verifying": "核查中",
            "confirmed": "属实",
            "unfounded": "不实",
            "archived": "已归档",
        },
        closed=frozenset({"archived"}),
    ),
    details=ClueDetails,
    creators=frozenset(_POLICE),
    personal={"informant": "name"},
    notify_on_create=frozenset({Party.ASSIGNEE}),
)
