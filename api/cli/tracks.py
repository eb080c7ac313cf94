"""``warroom tracks``: the positions table's day partitions."""

from __future__ import annotations

from datetime import UTC, datetime

import typer
from rich.console import Console

from api.cli.checks import load_settings, ready_engine
from layers.database import make_sessionmaker, transaction
from layers.tracks.partitions import prune_partitions

tracks_app = typer.Typer(help="Vehicle positions kept by day.", no_args_is_help=True)
console = Console()


@tracks_app.command("prune")
def prune() -> None:
    """Drop the days of positions older than WARROOM_TRACKS_RETENTION_DAYS (run it daily)."""
    settings = load_settings()
    factory = make_sessionmaker(ready_engine(settings))
    with transaction(factory) as session:
        dropped = prune_partitions(session, retention_days=settings.tracks.retention_days,
                                   now=datetime.now(UTC))  # fmt: skip
    kept = settings.tracks.retention_days
    if not dropped:
        console.print(f"no day of positions is older than {kept} days")
        return
    days = ", ".join(day.isoformat() for day in dropped)
    console.print(f"dropped {len(dropped)} days of positions older than {kept} days: {days}")
