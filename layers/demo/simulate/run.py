"""The simulation's loop: draw a motion, run it in a transaction of its own, keep pace."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from layers.database import transaction
from layers.demo.simulate.registry import Motion, NothingToDo, Outcome, Transition, World
from layers.errors import WarroomError


@dataclass
class Report:
    """What a run did: events by motion, skips and refusals, and everything it touched."""

    events: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    last_refusal: str | None = None
    records: list[int] = field(default_factory=list)
    transitions: list[Transition] = field(default_factory=list)
    features: list[tuple[str, int]] = field(default_factory=list)
    positions: int = 0
    alerts: list[int] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Return how many events were done."""
        return sum(self.events.values())

    def add(self, motion: Motion, outcome: Outcome) -> None:
        """Count one event of ``motion`` and keep what it touched."""
        self.events[motion.name] += 1
        self.records += [r for r in outcome.records if r not in self.records]
        self.transitions += outcome.transitions
        self.features += [f for f in outcome.features if f not in self.features]
        self.positions += outcome.positions
        self.alerts += outcome.alerts

    def as_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready values."""
        return {
            "events": dict(self.events), "skipped": dict(self.skipped),
            "refused": dict(self.refused), "last_refusal": self.last_refusal,
            "records": self.records,
            "transitions": [dict(zip(("record_id", "action", "from", "to"), t, strict=True))
                            for t in self.transitions],
            "features": [{"layer": layer, "id": i} for layer, i in self.features],
            "positions": self.positions, "alerts": self.alerts,
        }  # fmt: skip


class Simulation:
    """Runs motions drawn by weight at a steady rate; ``report`` says what it did so far."""

    def __init__(self, factory: sessionmaker[Session], world: World,
                 motions: Sequence[Motion]) -> None:  # fmt: skip
        if not motions:
            raise ValueError("a simulation needs at least one motion")
        self.factory, self.world, self.motions = factory, world, list(motions)
        weights = [m.weight for m in self.motions]
        self._p = [w / sum(weights) for w in weights]
        self.report = Report()

    def step(self) -> tuple[Motion, Outcome | None]:
        """Draw one motion and run it in its own transaction; return it and what it did."""
        motion = self.motions[int(self.world.rng.choice(len(self.motions), p=self._p))]
        try:
            with transaction(self.factory) as session:
                outcome = motion.run(session, self.world)
        except NothingToDo:
            self.report.skipped[motion.name] += 1
            return motion, None
        except WarroomError as exc:  # a person acted on it first, say: the run goes on
            self.report.refused[motion.name] += 1
            self.report.last_refusal = f"{motion.name}: {exc.message}"
            return motion, None
        self.report.add(motion, outcome)
        return motion, outcome

    def run(
        self, *, rate_per_min: float, duration_s: float | None = None,
        max_events: int | None = None,
        on_event: Callable[[Motion, Outcome | None], None] | None = None,
        clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
    ) -> Report:  # fmt: skip
        """Run events at ``rate_per_min`` until ``duration_s`` passed or ``max_events`` ran.

        With neither, run until interrupted (Ctrl-C). Drawn motions that had nothing
        to do count towards ``max_events`` as tries, so a run always ends.
        """
        interval = 60.0 / rate_per_min
        start = clock()
        tries = 0
        while max_events is None or tries < max_events:
            due = start + tries * interval
            if duration_s is not None and due - start >= duration_s:
                break
            sleep(max(0.0, due - clock()))
            if duration_s is not None and clock() - start >= duration_s:
                break
            motion, outcome = self.step()
            tries += 1
            if on_event is not None:
                on_event(motion, outcome)
        return self.report
