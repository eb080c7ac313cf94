"""A rich progress bar fed by domain functions that report ``(step, done, total)``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

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


def run_with_progress(work: Callable[[ProgressFn], T]) -> T:
    """Run ``work`` with a callback that draws one bar per step."""
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def report(step: str, done: int, total: int) -> None:
            if step not in tasks:
                tasks[step] = bar.add_task(step, total=total)
            bar.update(tasks[step], completed=done, total=total)

        return work(report)
