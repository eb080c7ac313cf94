"""``warroom``: set up the database, load the demo city, manage users, serve the app."""

from __future__ import annotations

import os
import secrets

import typer
from rich.console import Console
from sqlalchemy import select

from api.cli.data import export, import_
from api.cli.db import db_app
from api.cli.users import user_app
from layers.accounts.models import User
from layers.accounts.roles import Role
from layers.accounts.scope import SYSTEM
from layers.accounts.service import Jurisdiction, create_user
from layers.cluster import database_url
from layers.database import make_engine, make_sessionmaker, transaction
from layers.migrate import upgrade
from layers.settings import Settings

app = typer.Typer(help="Warroom — spatial command map.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.command("import")(import_)
app.command("export")(export)
console = Console()


@app.command()
def migrate() -> None:
    """Apply database migrations."""
    upgrade(database_url(Settings()))
    console.print("[green]migrations applied[/green]")


@app.command()
def demo(
    units: int = typer.Option(20_000, min=0, help="Number of units to generate."),
    seed: int = typer.Option(42, help="Random seed; the same seed builds the same city."),
    if_empty: bool = typer.Option(False, "--if-empty", help="Do nothing if data exists."),
    replace: bool = typer.Option(False, help="Replace the feature layers if data exists."),
) -> None:
    """Load the demo city of Beijing."""
    from api.cli.progress import run_with_progress
    from layers.demo.load import database_is_empty, load_demo_city

    engine = make_engine(Settings())
    if if_empty and not database_is_empty(engine):
        console.print("demo: database already holds data, nothing loaded")
        return
    report = run_with_progress(
        lambda progress: load_demo_city(
            engine, units=units, seed=seed, replace=replace, progress=progress
        )
    )
    console.print(report)


@app.command("ensure-admin")
def ensure_admin() -> None:
    """Create the ``admin`` account if missing (password from WARROOM_ADMIN_PASSWORD)."""
    settings = Settings()
    factory = make_sessionmaker(make_engine(settings))
    with transaction(factory) as session:
        if session.scalar(select(User.id).where(User.username == "admin")) is not None:
            console.print("admin account exists")
            return
        password = os.environ.get("WARROOM_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        create_user(session=session, username="admin", password=password, role=Role.ADMIN,
                    where=Jurisdiction(), actor=SYSTEM, policy=settings.security)  # fmt: skip
    if "WARROOM_ADMIN_PASSWORD" in os.environ:
        console.print("created user [bold]admin[/bold] with WARROOM_ADMIN_PASSWORD")
    else:
        console.print(f"created user [bold]admin[/bold], password: [bold]{password}[/bold] "
                      "(shown once; change it or set WARROOM_ADMIN_PASSWORD)")  # fmt: skip


@app.command()
def serve(
    host: str | None = typer.Option(None, help="Address to bind (WARROOM_HOST)."),
    port: int | None = typer.Option(None, help="Port (WARROOM_PORT)."),
    workers: int = typer.Option(1, min=1, help="Worker processes."),
) -> None:
    """Serve the API (``python -m warroom_ui`` serves it with the map, as ``make run`` does)."""
    import uvicorn

    settings = Settings()
    uvicorn.run("api.app:app_from_env", factory=True, host=host or settings.host,
                port=port or settings.port, workers=workers, proxy_headers=False)  # fmt: skip
