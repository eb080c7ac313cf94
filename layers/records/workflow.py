"""Workflows as data: states, and the actions that move a record between them.

A kind's workflow is a table of steps; the server enforces it. Who may take a step is
said by roles and, where the step belongs to particular people, by a party: the
record's ``creator`` or one of its ``assignee``s.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from enum import StrEnum

from layers.accounts.roles import Role


class Party(StrEnum):
    """A person a step belongs to besides a role."""

    CREATOR = "creator"
    ASSIGNEE = "assignee"


@dataclass(frozen=True)
class Step:
    """``action`` moves a record from any of ``sources`` to ``target``.

    Allowed to the ``roles`` listed, and to the ``parties`` listed whatever their role
    (an assigned unit user accepts its own task); both empty means nobody. The
    ``notify`` parties find the record in their inbox once the step is taken. Whoever
    takes it may set the details fields it ``fills`` (a case's results at disposal).
    """

    action: str
    sources: frozenset[str]
    target: str
    roles: frozenset[Role] = frozenset()
    parties: frozenset[Party] = frozenset()
    title: str = ""
    notify: frozenset[Party] = frozenset()
    fills: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Workflow:
    """The states of a kind (the first is where records start) and its steps."""

    states: tuple[str, ...]
    steps: tuple[Step, ...]
    titles: dict[str, str] = field(default_factory=dict)
    closed: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        known = set(self.states)
        for step in self.steps:
            unknown = (step.sources | {step.target}) - known
            if unknown:
                raise ValueError(f"step {step.action!r} names unknown states {sorted(unknown)}")

    @property
    def initial(self) -> str:
        """Return the state a new record starts in."""
        return self.states[0]

    def steps_from(self, state: str) -> tuple[Step, ...]:
        """Return the steps that leave ``state``."""
        return tuple(step for step in self.steps if state in step.sources)

    def step(self, state: str, action: str) -> Step | None:
        """Return the step ``action`` from ``state``, or None if there is none."""
        return next((s for s in self.steps_from(state) if s.action == action), None)


def may_take(step: Step, role: Role, parties: Collection[Party]) -> bool:
    """Return whether someone of ``role`` who is ``parties`` of the record may take ``step``."""
    return role in step.roles or any(party in step.parties for party in parties)


def step(
    action: str,
    sources: str | Collection[str],
    target: str,
    *,
    roles: Collection[Role] = (),
    parties: Collection[Party] = (),
    title: str = "",
    notify: Collection[Party] = (),
    fills: Collection[str] = (),
) -> Step:
    """Return a ``Step``; ``sources`` is one state or several."""
    sources_set = frozenset([sources] if isinstance(sources, str) else sources)
    return Step(action, sources_set, target, frozenset(roles), frozenset(parties), title,
                frozenset(notify), frozenset(fills))  # fmt: skip
