"""``warroom user``: accounts."""

from __future__ import annotations

import os

import typer
from rich.console import Console

from api.cli.checks import load_settings
from api.cli.keys import ready_sessions
from layers.accounts.roles import Role
from layers.accounts.scope import SYSTEM
from layers.accounts.service import Jurisdiction, create_user
from layers.database import transaction
from layers.errors import WarroomError

user_app = typer.Typer(help="Manage user accounts.", no_args_is_help=True)
console = Console()


@user_app.command("add")
def add(
    name: str,
    role: Role = typer.Option(..., help="Role of the new user."),
    precinct: str | None = typer.Option(None, help="Precinct code the user is limited to."),
    district: str | None = typer.Option(None, help="District code the user is limited to."),
    unit: int | None = typer.Option(None, help="Unit id (for role 'unit')."),
) -> None:
    """Add a user; the password comes from WARROOM_PASSWORD or a prompt."""
    password = os.environ.get("WARROOM_PASSWORD") or typer.prompt(
        "Password", hide_input=True, confirmation_prompt=True
    )
    settings = load_settings()
    factory = ready_sessions(settings)
    try:
        with transaction(factory) as session:
            user = create_user(
                session=session, username=name, password=password, role=role,
                where=Jurisdiction(district, precinct, unit), actor=SYSTEM,
                policy=settings.security,
            )  # fmt: skip
            user_id = user.id
    except WarroomError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(2) from exc
    console.print(f"user {name!r} ({role.value}) created with id {user_id}")
