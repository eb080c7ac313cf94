"""``warroom audit``: check the keyed audit chain; archive records to a sealed file."""

from __future__ import annotations

import getpass
from datetime import date, datetime, time
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from api.cli.checks import fail, load_settings
from api.cli.keys import ready_sessions
from layers.accounts.roles import Role
from layers.accounts.scope import Actor
from layers.audit.archive import archive_audit
from layers.audit.reading import verify_audit
from layers.database import transaction
from layers.errors import WarroomError

audit_app = typer.Typer(help="The audit log: verify its chain, archive it.", no_args_is_help=True)
console = Console()


def _auditor() -> Actor:
    """Return the actor the audit log names for this command: the OS user, as an auditor."""
    return Actor(user_id=None, username=f"cli:{getpass.getuser()}", role=Role.AUDITOR,
                 client="cli")  # fmt: skip


def _head(text: str | None) -> tuple[int, str] | None:
    if text is None:
        return None
    number, _, digest = text.partition(":")
    if not (number.isdigit() and len(digest) == 64):
        fail(f"--expect-head must be ID:HASH (64 hex digits), as verify prints it; got {text!r}")
    return int(number), digest.lower()


@audit_app.command()
def verify(
    expect_head: str | None = typer.Option(
        None, help="ID:HASH of a head printed earlier: it must still be in the chain "
        "(catches records cut from the end)."),
) -> None:  # fmt: skip
    """Check every audit record's HMAC-SM3 seal and link; exit 1 naming the first bad one."""
    settings = load_settings()
    with transaction(ready_sessions(settings)) as session:
        status = verify_audit(session=session, actor=_auditor(), expect_head=_head(expect_head))
    if not status.intact:
        fail(f"audit chain broken: {status.problem}")
    keyed = f", sealed with the key from record {status.keyed_from}" if status.keyed_from else ""
    head = f"{status.head_id}:{status.head_hash}"
    console.print(f"audit chain intact: {status.checked:,} records{keyed}; head {head}",
                  soft_wrap=True, highlight=False)  # fmt: skip


@audit_app.command()
def archive(
    out: Path = typer.Argument(..., dir_okay=False, help="New file for the records (JSON Lines)."),
    before: datetime = typer.Option(..., formats=["%Y-%m-%d"],
                                    help="Archive records before this day (bureau time)."),
) -> None:  # fmt: skip
    """Write the records before a day to OUT with a sealed digest beside it; delete nothing."""
    settings = load_settings()
    start = datetime.combine(date(before.year, before.month, before.day), time.min, settings.zone)
    try:
        with transaction(ready_sessions(settings)) as session:
            done = archive_audit(session=session, actor=_auditor(), before=start, path=out)
    except WarroomError as exc:
        fail(exc.message)
    console.print(
        f"{done.rows:,} audit records (ids {done.first_id}-{done.last_id}) archived to "
        f"{escape(str(done.path))}, SM3 {done.sm3}; seal in {escape(str(done.seal_path))}. "
        "Nothing was deleted: the audit log keeps every record.",
        soft_wrap=True, highlight=False,
    )  # fmt: skip
