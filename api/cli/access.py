"""``warroom access``: check and seal the HMAC-SM3 seals of users' roles and jurisdictions."""

from __future__ import annotations

import getpass

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy import func, select

from api.cli.checks import fail, load_settings
from api.cli.keys import ready_sessions
from layers.accounts.integrity import broken_seals, reseal
from layers.accounts.models import User
from layers.accounts.roles import Role
from layers.accounts.scope import Actor
from layers.database import transaction

access_app = typer.Typer(
    help="Access-control information: verify and seal users' authority (HMAC-SM3).",
    no_args_is_help=True,
)
console = Console()


def _security_admin() -> Actor:
    """Return the actor the audit log names for this command: the OS user, as security admin."""
    return Actor(user_id=None, username=f"cli:{getpass.getuser()}", role=Role.SECURITY_ADMIN,
                 client="cli")  # fmt: skip


def _line(user: User, problem: str) -> str:
    where = f"district {user.district_id} precinct {user.precinct_id} unit {user.unit_id}"
    state = "active" if user.is_active else "disabled"
    return escape(f"user {user.id} {user.username}: {problem} (role {user.role}, {where}, {state})")


@access_app.command()
def verify() -> None:
    """Check every user's seal; exit 1 listing those whose seal fails or is missing."""
    with transaction(ready_sessions(load_settings())) as session:
        broken = broken_seals(session)
        lines = [_line(user, problem) for user, problem in broken]
        total = session.scalar(select(func.count()).select_from(User))
    for line in lines:
        console.print(line, soft_wrap=True, highlight=False)
    if lines:
        fail(f"{len(lines)} of {total} users fail their access-control seal")
    console.print(f"access-control seals intact: {total} users", highlight=False)


@access_app.command()
def seal(
    user: list[str] = typer.Option(
        [], "--user", help="Seal this user as it is now, even if its seal fails (after "
        "checking it). Repeatable. Without it: seal the users that have no seal yet."),
) -> None:  # fmt: skip
    """Seal users without a seal (after migration 0027), or the named users; audited."""
    with transaction(ready_sessions(load_settings())) as session:
        if user:
            chosen = list(session.scalars(select(User).where(User.username.in_(user))))
            missing = set(user) - {found.username for found in chosen}
            if missing:
                fail(f"no such user: {', '.join(sorted(missing))}")
        else:
            chosen = [found for found, problem in broken_seals(session) if problem == "not sealed"]
        done = [found.username for found in reseal(session, chosen, _security_admin())]
    console.print(f"sealed {len(done)} users" + (f": {', '.join(done)}" if done else ""),
                  soft_wrap=True, highlight=False)  # fmt: skip
