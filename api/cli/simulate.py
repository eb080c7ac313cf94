"""``warroom simulate``: keep the demo city moving (incidents, tasks, hazards, vehicles)."""

from __future__ import annotations

import json
import time
from contextlib import suppress
from datetime import UTC, datetime

import numpy as np
import typer
from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from api.cli.checks import database_problems, fail, load_settings
from api.cli.keys import ready_sessions
from layers.database import explained
from layers.demo.simulate import MOTIONS, Motion, Outcome, Report, Simulation, World

console = Console()
status_console = Console(stderr=True)  # stdout keeps the --json report alone


def _motions(only: str | None) -> list[Motion]:
    """Return the motions named in ``only`` (comma-separated), or all; exit on an unknown one."""
    if not only:
        return list(MOTIONS.values())
    names = [n.strip() for n in only.split(",") if n.strip()]
    unknown = [n for n in names if n not in MOTIONS]
    if unknown:
        fail(f"--only: unknown motions {', '.join(unknown)}; known: {', '.join(MOTIONS)}", 2)
    return [MOTIONS[n] for n in names]


def _status(report: Report, started: float, last: str) -> Text:
    """Return the one status line: events, their rate, counts by motion, the last event."""
    elapsed = max(time.monotonic() - started, 1e-9)
    counts = " · ".join(f"{name} {n}" for name, n in sorted(report.events.items()))
    waits = sum(report.skipped.values()) + sum(report.refused.values())
    line = Text.assemble(
        ("simulate ", "bold"), (f"{report.total} events", "green"),
        f" ({report.total * 60 / elapsed:.0f}/min) · {counts or 'starting'}",
        (f" · {waits} idle" if waits else ""), (f"\n  last: {last}" if last else "", "dim"),
    )  # fmt: skip
    return line


def _summary(report: Report, seconds: float) -> Table:
    """Return the run as a table of motions with their events, skips and refusals."""
    table = Table(title=f"simulated for {seconds:.1f} s", title_justify="left")
    for column in ("motion", "events", "nothing to do", "refused"):
        table.add_column(column, justify="left" if column == "motion" else "right")
    for name in sorted({*report.events, *report.skipped, *report.refused}):
        table.add_row(name, str(report.events[name]), str(report.skipped[name]),
                      str(report.refused[name]))  # fmt: skip
    return table


def simulate(
    seed: int = typer.Option(42, help="Random seed: the same seed on the same city, the same run."),
    rate: float = typer.Option(60.0, min=0.1, max=60_000, help="Events a minute."),
    duration: float | None = typer.Option(None, min=0, help="Seconds to run (else until Ctrl-C)."),
    events: int | None = typer.Option(None, min=1, help="Stop after this many events."),
    only: str | None = typer.Option(None, help=f"Comma-separated motions: {', '.join(MOTIONS)}."),
    vehicles: int = typer.Option(20, min=1, max=1000, help="Vehicles in the driving fleet."),
    as_json: bool = typer.Option(False, "--json", help="Print the run's report as JSON."),
) -> None:  # fmt: skip
    """Keep the demo city moving: new incidents, task and hazard steps, vehicles driving.

    Every write goes through the app's doors as the role that may make it (audited, on
    the event stream, geofence alerts included). Runs until --duration or --events, or
    Ctrl-C; the status line shows what happens.
    """
    chosen = _motions(only)
    settings = load_settings()
    world = World(settings=settings, rng=np.random.default_rng(seed), fleet_size=vehicles)
    started, last = time.monotonic(), ""
    with database_problems(), explained(settings):
        simulation = Simulation(ready_sessions(settings), world, chosen)
        with Live(_status(simulation.report, started, last), console=status_console,
                  transient=True, refresh_per_second=4) as live:  # fmt: skip

            def show(motion: Motion, outcome: Outcome | None) -> None:
                nonlocal last
                if outcome is not None:
                    last = f"{motion.name}: {outcome.text}"
                    if not status_console.is_terminal:  # a log (make run SIMULATE=1): a line each
                        status_console.print(f"{datetime.now(UTC):%H:%M:%S} {last}",
                                             highlight=False, markup=False)  # fmt: skip
                live.update(_status(simulation.report, started, last))

            with suppress(KeyboardInterrupt):  # Ctrl-C ends the run, its report follows
                simulation.run(rate_per_min=rate, duration_s=duration, max_events=events,
                               on_event=show)  # fmt: skip
    report = simulation.report
    if as_json:
        typer.echo(json.dumps(report.as_dict(), ensure_ascii=False))  # one line, unwrapped
        return
    console.print(_summary(report, time.monotonic() - started))
    if report.last_refusal:
        console.print(f"last refusal: {escape(report.last_refusal)}", highlight=False)
    console.print(f"{len(report.records)} records, {len(report.transitions)} steps, "
                  f"{report.positions} positions, {len(report.alerts)} alerts")  # fmt: skip
