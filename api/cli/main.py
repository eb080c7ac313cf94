"""``warroom``: set up the database, load the demo city, manage users, serve the app."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from api.cli.access import access_app
from api.cli.audit import audit_app
from api.cli.backup import backup, restore
from api.cli.checks import database_problems, load_settings, ready_engine
from api.cli.data import export, import_
from api.cli.db import db_app
from api.cli.keys import cli_key_ring, keys_app, ready_sessions
from api.cli.simulate import simulate
from api.cli.tracks import tracks_app
from api.cli.users import user_app
from layers.accounts.models import User
from layers.accounts.passwords import one_time_password
from layers.accounts.roles import Role
from layers.accounts.scope import SYSTEM
from layers.accounts.service import Jurisdiction, create_user
from layers.cluster import owner_database_url
from layers.database import application_role, explained, transaction
from layers.errors import WarroomError
from layers.migrate import upgrade

app = typer.Typer(help="Warroom — spatial command map.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(keys_app, name="keys")
app.add_typer(audit_app, name="audit")
app.add_typer(access_app, name="access")
app.add_typer(tracks_app, name="tracks")
app.command("import")(import_)
app.command("export")(export)
app.command("backup")(backup)
app.command("restore")(restore)
app.command("simulate")(simulate)
console = Console()


@app.command()
def migrate() -> None:
    """Apply database migrations."""
    settings = load_settings()
    with database_problems(), explained(settings):
        upgrade(owner_database_url(settings), app_role=application_role(settings))
    console.print("[green]migrations applied[/green]")


@app.command()
def demo(
    units: int = typer.Option(20_000, min=0, help="Number of units to generate."),
    seed: int = typer.Option(42, help="Random seed; the same seed builds the same city."),
    if_empty: bool = typer.Option(False, "--if-empty", help="Do nothing if data exists."),
    replace: bool = typer.Option(False, help="Replace the feature layers if data exists."),
    verbose: bool = typer.Option(False, "-v", "--verbose", help="Keep the bars; time each step."),
) -> None:
    """Load the demo city of Beijing."""
    from api.cli.progress import run_with_progress
    from layers.demo.load import database_is_empty, load_demo_city

    settings = load_settings()
    engine = ready_engine(settings)
    if if_empty and not database_is_empty(engine):
        console.print("demo: database already holds data, nothing loaded")
        return
    keys = cli_key_ring(settings)
    report = run_with_progress(
        lambda progress: load_demo_city(
            engine, units=units, seed=seed, replace=replace, progress=progress, keys=keys
        ),
        console,
        transient=not verbose,
    )
    console.print(_load_table(report.summary(), report.total_seconds))
    if verbose:
        console.print(_steps_table(report.seconds))


def _load_table(summary: list[tuple[str, int | None, float]], total_seconds: float) -> Table:
    """Return the demo load as a table of layers, rows and seconds."""
    table = Table(title="demo city loaded", title_justify="left", show_footer=True)
    table.add_column("layer", "total")
    table.add_column("rows", f"{sum(rows or 0 for _, rows, _ in summary):,}", justify="right")
    table.add_column("seconds", f"{total_seconds:.1f}", justify="right")
    for layer, rows, seconds in summary:
        table.add_row(layer, "" if rows is None else f"{rows:,}", f"{seconds:.1f}")
    return table


def _steps_table(seconds: dict[str, float]) -> Table:
    """Return every step of the load with its seconds, in the order they ran."""
    table = Table(title="steps", title_justify="left")
    table.add_column("step")
    table.add_column("seconds", justify="right")
    for step, spent in seconds.items():
        table.add_row(step, f"{spent:.2f}")
    return table


@app.command("ensure-admin")
def ensure_admin() -> None:
    """Create the ``admin`` account if missing (password from WARROOM_ADMIN_PASSWORD)."""
    settings = load_settings()
    factory = ready_sessions(settings)
    with transaction(factory) as session:
        if session.scalar(select(User.id).where(User.username == "admin")) is not None:
            console.print("admin account exists")
            return
        password = os.environ.get("WARROOM_ADMIN_PASSWORD") or one_time_password(
            username="admin", policy=settings.security
        )
        try:
            create_user(session=session, username="admin", password=password, role=Role.ADMIN,
                        where=Jurisdiction(), actor=SYSTEM, policy=settings.security)  # fmt: skip
        except WarroomError as exc:
            console.print(f"[red]WARROOM_ADMIN_PASSWORD: {exc.message}[/red]")
            raise typer.Exit(2) from exc
    if "WARROOM_ADMIN_PASSWORD" in os.environ:
        console.print("created user [bold]admin[/bold] with WARROOM_ADMIN_PASSWORD")
    else:
        console.print(f"created user [bold]admin[/bold], initial password: [bold]{password}[/bold] "
                      "(shown once; set WARROOM_ADMIN_PASSWORD to choose it)",
                      soft_wrap=True, highlight=False)  # fmt: skip

    console.print("the first login must change it, then enrol an authenticator app (README: "
                  "First login)", soft_wrap=True, highlight=False)  # fmt: skip


@app.command()
def serve(
    host: str | None = typer.Option(None, help="Address to bind (WARROOM_HOST)."),
    port: int | None = typer.Option(None, help="Port (WARROOM_PORT)."),
    workers: int = typer.Option(1, min=1, help="Worker processes."),
) -> None:
    """Serve the API (``python -m warroom_ui`` serves it with the map, as ``make run`` does)."""
    import uvicorn

    from api.links import proxy_options
    from api.live.stream import SHUTDOWN_GRACE_S

    settings = load_settings()
    ready_engine(settings).dispose()
    uvicorn.run("api.app:app_from_env", factory=True, host=host or settings.host,
                port=port or settings.port, workers=workers,
                timeout_graceful_shutdown=SHUTDOWN_GRACE_S, **proxy_options(settings))  # fmt: skip


@app.command()
def overdue() -> None:
    """Announce every open record newly past its due time (run it every minute from cron)."""
    from layers.records.catalog import KINDS
    from layers.records.overdue import announce_overdue

    settings = load_settings()
    with database_problems(), explained(settings), transaction(ready_sessions(settings)) as session:
        count = announce_overdue(session, list(KINDS.values()), datetime.now(UTC))
    console.print(f"{count} records newly overdue")
