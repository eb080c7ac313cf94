"""``warroom db``: the project-local PostgreSQL cluster."""

from __future__ import annotations

import typer
from rich.console import Console

from api.cli.checks import load_settings
from layers.cluster import ClusterError, LocalCluster

db_app = typer.Typer(help="Manage the project-local PostGIS cluster.", no_args_is_help=True)
console = Console()


def _cluster() -> LocalCluster | None:
    settings = load_settings()
    if settings.database.url:
        console.print("WARROOM_DATABASE_URL is set: using that database, no local cluster")
        return None
    return LocalCluster(settings.cluster)


@db_app.command()
def start() -> None:
    """Initialise (first time) and start the local cluster."""
    cluster = _cluster()
    if cluster is None:
        return
    try:
        cluster.start()
    except ClusterError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    console.print(f"local PostGIS running on 127.0.0.1:{cluster.port} ({cluster.data_dir})")


@db_app.command()
def stop() -> None:
    """Stop the local cluster."""
    cluster = _cluster()
    if cluster is not None:
        cluster.stop()
        console.print("local PostGIS stopped")


@db_app.command()
def status() -> None:
    """Say whether the local cluster runs; exit 1 if not."""
    cluster = _cluster()
    if cluster is None:
        return
    if cluster.is_running():
        console.print(f"running on 127.0.0.1:{cluster.port} ({cluster.data_dir})")
    else:
        console.print("not running")
        raise typer.Exit(1)
