"""The ``warroom`` command line against the test database."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from api.cli.main import app
from layers.accounts.models import User
from layers.features.models import Precinct

runner = CliRunner()


@pytest.fixture
def cli_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WARROOM_DATABASE_URL", database_url)
    monkeypatch.setenv("WARROOM_PASSWORD", "a-long-enough-password")


def test_user_add_limits_an_officer_to_his_precinct(
    cli_env: None, city: None, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session:
        precinct = session.scalars(select(Precinct).limit(1)).one()
    result = runner.invoke(app, ["user", "add", "wang-wei", "--role", "officer",
                                 "--precinct", precinct.code])  # fmt: skip
    assert result.exit_code == 0, result.output
    with session_factory() as session:
        user = session.scalars(select(User).where(User.username == "wang-wei")).one()
    assert user.role == "officer" and user.precinct_id == precinct.id
    assert user.password_hash.startswith("$argon2")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["user", "add", "li-na", "--role", "officer"], "needs --precinct or --district"),
        (["user", "add", "li-na", "--role", "officer", "--precinct", "nope"], "no precinct"),
        (["user", "add", "li-na", "--role", "unit"], "go together"),
    ],
)
def test_user_add_refuses_bad_input(
    cli_env: None, city: None, args: list[str], message: str
) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in result.output


def test_ensure_admin_is_idempotent(cli_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WARROOM_ADMIN_PASSWORD", "admin-password-123")
    first = runner.invoke(app, ["ensure-admin"])
    second = runner.invoke(app, ["ensure-admin"])
    assert first.exit_code == 0 and second.exit_code == 0
    assert "admin account exists" in second.output


def test_db_commands_defer_to_database_url(cli_env: None) -> None:
    result = runner.invoke(app, ["db", "status"])
    assert result.exit_code == 0
    assert "WARROOM_DATABASE_URL is set" in result.output
