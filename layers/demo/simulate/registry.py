"""The contract of a kind of motion and the registry of them (a name -> ``Motion``).

A motion is one kind of thing that happens in the demo city: a new incident, a task
taking its next step, the fleet driving on. ``run(session, world)`` does one such
thing through the app's own write doors (role checks, audit, events) inside the
transaction it is given, and returns what it did as an ``Outcome``; it raises
``NothingToDo`` when there is nothing for it now (no open task to move). A module
adds its motions with ``register(Motion(...))`` at import, and
``layers/demo/simulate/__init__.py`` imports it — that is all a new kind needs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from layers.settings import Settings

__all__ = ["MOTIONS", "Motion", "NothingToDo", "Outcome", "World", "register"]


class NothingToDo(Exception):
    """A motion has nothing to act on now (the run counts it as skipped)."""


@dataclass
class World:
    """What every motion shares during a run: settings, the seeded generator, its memory.

    ``memory`` keeps what a motion carries from one event to the next (the fleet's
    drives), under the motion's name.
    """

    settings: Settings
    rng: np.random.Generator
    fleet_size: int = 20
    memory: dict[str, Any] = field(default_factory=dict)

    def now(self) -> datetime:
        """Return the current instant (positions and records are stamped with it)."""
        return datetime.now(UTC)


Transition = tuple[int, str, str, str]  # record id, action, from state, to state


@dataclass(frozen=True)
class Outcome:
    """What one event did, for the status line and the run's report."""

    text: str
    records: tuple[int, ...] = ()
    transitions: tuple[Transition, ...] = ()
    features: tuple[tuple[str, int], ...] = ()  # (layer, id) created or changed
    positions: int = 0
    alerts: tuple[int, ...] = ()


@dataclass(frozen=True)
class Motion:
    """One kind of motion: its name, how often it is drawn (relative weight), what it does."""

    name: str
    weight: float
    run: Callable[[Session, World], Outcome]
    help: str = ""


MOTIONS: dict[str, Motion] = {}


def register(motion: Motion) -> Motion:
    """Add ``motion`` to the registry (its name must be new); return it."""
    if motion.name in MOTIONS:
        raise ValueError(f"a motion called {motion.name!r} is registered already")
    if motion.weight <= 0:
        raise ValueError(f"motion {motion.name!r} needs a positive weight")
    MOTIONS[motion.name] = motion
    return motion
