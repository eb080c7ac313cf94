"""``warroom tracks``: the positions table's day partitions."""

from __future__ import annotations

from datetime import UTC, datetime

import typer
from rich.console import Console

from api.cli.checks import load_settings, ready_engine
from layers.database import make_sessionmaker, transaction
from layers.geofence.follow import forget_deleted_perimeters
from layers.tracks.partitions import prune_partitions

tracks_app = typer.Typer(help="Vehicle positions kept by day.", no_args_is_help=True)
console = Console()


@tracks_app.command("prune")
def prune() -> None:
    """Drop the days of positions older than WARROOM_TRACKS_RETENTION_DAYS (run it daily).

    The geofence states of perimeters deleted since go too.
    """
    settings = load_settings()
    factory = make_sessionmaker(ready_engine(settings))
    with transaction(factory) as session:
        dropped = prune_partitions(session, retention_days=settings.tracks.retention_days,
                                   now=datetime.now(UTC))  # fmt: skip
        forgotten = forget_deleted_perimeters(session)
    kept = settings.tracks.retention_days
    days = ", ".join(day.isoformat() for day in dropped) or "none"
    console.print(f"dropped {len(dropped)} days of positions older than {kept} days ({days}); "
                  f"{forgotten} geofence states of deleted perimeters")  # fmt: skip
