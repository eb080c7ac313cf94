"""A rich progress bar fed by domain functions that report ``(step, done, total)``."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from rich import get_console
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

T = TypeVar("T")
ProgressFn = Callable[[str, int, int], None]


def run_with_progress(
    work: Callable[[ProgressFn], T], console: Console | None = None, *, transient: bool = False
) -> T:
    """Run ``work`` with a callback that draws one bar per step, with its rate per second.

    ``transient`` bars vanish when the work is done, and are not drawn off a terminal.
    """
    columns = (TextColumn("{task.description:>8}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[rate]}/s"), TimeElapsedColumn())  # fmt: skip
    hidden = transient and not (console or get_console()).is_terminal
    with Progress(*columns, console=console, transient=transient, disable=hidden) as bar:
        tasks: dict[str, tuple[TaskID, float]] = {}
        last = [time.monotonic()]  # when the previous report came: a step starts there

        def report(step: str, done: int, total: int) -> None:
            now = time.monotonic()
            if step not in tasks:
                tasks[step] = (bar.add_task(step, total=total, rate="-"), last[0])
            task, started = tasks[step]
            last[0] = now
            rate = done / max(now - started, 1e-3)
            bar.update(task, completed=done, total=total, rate=f"{rate:,.0f}")

        return work(report)
