"""The ``warroom`` command line against the test database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import URL, create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from api.cli.main import app
from layers.accounts.models import User
from layers.features.models import Precinct

runner = CliRunner()


@pytest.fixture
def cli_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WARROOM_DATABASE_URL", database_url)
    monkeypatch.setenv("WARROOM_PASSWORD", "A-long-enough-password-1")


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
    monkeypatch.setenv("WARROOM_ADMIN_PASSWORD", "Chief-password-123")
    first = runner.invoke(app, ["ensure-admin"])
    second = runner.invoke(app, ["ensure-admin"])
    assert first.exit_code == 0 and second.exit_code == 0
    assert "admin account exists" in second.output


def test_db_commands_defer_to_database_url(cli_env: None) -> None:
    result = runner.invoke(app, ["db", "status"])
    assert result.exit_code == 0
    assert "WARROOM_DATABASE_URL is set" in result.output


# --- WARROOM_DATABASE_URL: every form works, every failure is one line --------------------

_ROLE_PASSWORD = "role-password-123"


def _one_line(output: str) -> str:
    lines = output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in output, output
    return lines[0]


def _unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def walled_role(server_url: str) -> Iterator[URL]:
    """A role with a password, not a superuser, owning a database without PostGIS: its URL."""
    name = f"warroom_walled_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_url(server_url).set(database="postgres"),
                          isolation_level="AUTOCOMMIT")  # fmt: skip
    with admin.connect() as conn:
        if not conn.scalar(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")):
            pytest.skip("the test server's role is no superuser: it cannot make such a role")
        conn.execute(text(f"CREATE ROLE {name} LOGIN PASSWORD '{_ROLE_PASSWORD}'"))
        conn.execute(text(f"CREATE DATABASE {name} OWNER {name}"))
    try:
        yield make_url(server_url).set(username=name, password=_ROLE_PASSWORD, database=name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            conn.execute(text(f"DROP ROLE IF EXISTS {name}"))
        admin.dispose()


@pytest.mark.parametrize("scheme", ["postgresql://", "postgres://", "postgresql+psycopg2://"])
def test_migrate_accepts_every_postgresql_url_form(
    database_url: str, scheme: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = database_url.replace("postgresql+psycopg2://", scheme)
    monkeypatch.setenv("WARROOM_DATABASE_URL", written)
    result = runner.invoke(app, ["migrate"])
    assert result.exit_code == 0, result.output
    assert "migrations applied" in result.output


def test_libpq_settings_fill_what_the_url_leaves_out(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = make_url(database_url)
    monkeypatch.setenv("WARROOM_DATABASE_URL", "postgresql://")
    monkeypatch.setenv("WARROOM_ADMIN_PASSWORD", "Chief-password-123")
    for name, value in (("PGHOST", url.host), ("PGPORT", url.port), ("PGUSER", url.username),
                        ("PGPASSWORD", url.password), ("PGDATABASE", url.database)):  # fmt: skip
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, str(value))
    result = runner.invoke(app, ["ensure-admin"])  # needs the migrated database, no other
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    "command",
    [
        ["migrate"],
        ["demo", "--if-empty"],
        ["ensure-admin"],
        ["serve"],
        ["user", "add", "li-na", "--role", "admin"],
        ["export", "--layer", "units"],
    ],
)
def test_an_unreachable_server_is_one_line(
    command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WARROOM_PASSWORD", "A-long-enough-password-1")
    monkeypatch.setenv("WARROOM_DATABASE_URL", f"postgresql://u@127.0.0.1:{_unused_port()}/db")
    result = runner.invoke(app, command)
    assert result.exit_code == 1
    line = _one_line(result.output)
    assert line.startswith("WARROOM_DATABASE_URL (postgresql+psycopg2://u@127.0.0.1:")
    assert "Connection refused; check the host and port" in line


def test_the_map_server_will_not_start_on_an_unreachable_server() -> None:
    url = f"postgresql://u@127.0.0.1:{_unused_port()}/db"
    env = {**os.environ, "WARROOM_DATABASE_URL": url, "WARROOM_PORT": str(_unused_port())}
    done = subprocess.run([sys.executable, "-m", "warroom_ui"], env=env, capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode == 1
    assert "Connection refused" in _one_line(done.stdout + done.stderr)


def test_an_unknown_scheme_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WARROOM_DATABASE_URL", "mysql://warroom:secret@127.0.0.1/warroom")
    result = runner.invoke(app, ["migrate"])
    assert result.exit_code == 2
    assert _one_line(result.output).startswith("WARROOM_DATABASE_URL: mysql:// is not PostgreSQL")
    assert "secret" not in result.output


def test_a_wrong_password_is_one_line(walled_role: URL, monkeypatch: pytest.MonkeyPatch) -> None:
    wrong = walled_role.set(password="not-the-password")
    try:
        create_engine(wrong).connect().close()
    except OperationalError:
        pass
    else:
        pytest.skip("the test server trusts this role: no password is checked")
    monkeypatch.setenv("WARROOM_DATABASE_URL", wrong.render_as_string(hide_password=False))
    result = runner.invoke(app, ["migrate"])
    assert result.exit_code == 1
    line = _one_line(result.output)
    assert "password authentication failed" in line and "fix the password" in line
    assert "not-the-password" not in line


@pytest.mark.parametrize("libpq", ["PGPASSWORD", "PGPASSFILE"])
def test_a_database_without_postgis_is_one_line(
    walled_role: URL, libpq: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The password comes from libpq's own settings: the URL leaves it out.
    monkeypatch.setenv(
        "WARROOM_DATABASE_URL", walled_role.set(password=None).render_as_string(hide_password=False)
    )
    if libpq == "PGPASSWORD":
        monkeypatch.setenv("PGPASSWORD", _ROLE_PASSWORD)
    else:
        passfile = tmp_path / "pgpass"
        passfile.write_text(f"*:*:*:{walled_role.username}:{_ROLE_PASSWORD}\n")
        passfile.chmod(0o600)
        monkeypatch.delenv("PGPASSWORD", raising=False)
        monkeypatch.setenv("PGPASSFILE", str(passfile))
    for command in (["demo", "--if-empty"], ["ensure-admin"]):
        result = runner.invoke(app, command)
        assert result.exit_code == 1
        assert "the database has no PostGIS; run `warroom migrate`" in _one_line(result.output)


def test_a_role_that_cannot_create_postgis_is_one_line(
    walled_role: URL, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WARROOM_DATABASE_URL", walled_role.render_as_string(hide_password=False))
    result = runner.invoke(app, ["migrate"])
    assert result.exit_code == 1
    line = _one_line(result.output)
    assert 'permission denied to create extension "postgis"' in line
    assert "a superuser must first run CREATE EXTENSION postgis" in line


def test_a_database_with_postgis_but_not_migrated_is_one_line(
    walled_role: URL, server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    superuser = create_engine(make_url(server_url).set(database=walled_role.database))
    with superuser.begin() as conn:
        conn.execute(text("CREATE EXTENSION postgis"))
    superuser.dispose()
    monkeypatch.setenv("WARROOM_DATABASE_URL", walled_role.render_as_string(hide_password=False))
    result = runner.invoke(app, ["ensure-admin"])
    assert result.exit_code == 1
    assert "lacks this version's tables; run `warroom migrate`" in _one_line(result.output)


# --- the demo load reads as a setup step --------------------------------------------------


def test_demo_load_ends_in_a_table_of_layers_rows_and_seconds(
    scratch_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WARROOM_DATABASE_URL", scratch_database_url)
    quiet = runner.invoke(app, ["demo", "--units", "300"])
    assert quiet.exit_code == 0, quiet.output
    assert "LoadReport" not in quiet.output and "copy units" not in quiet.output
    header = next(line for line in quiet.output.splitlines() if "layer" in line)
    assert header.split()[1::2] == ["layer", "rows", "seconds"]
    rows = {name: (count, seconds) for name, count, seconds in _table_rows(quiet.output)}
    assert rows["units"][0] == "300" and rows["districts"][0] == "16"
    loaded = [
        int(count.replace(",", ""))
        for name, (count, _) in rows.items()
        if name != "total" and count
    ]
    assert f"{sum(loaded):,}" == rows["total"][0]
    assert all(float(seconds) >= 0 for _, seconds in rows.values())
    verbose = runner.invoke(app, ["demo", "--units", "300", "--replace", "-v"])
    assert verbose.exit_code == 0, verbose.output
    assert any(cells[0] == "copy units" for cells in _table_rows(verbose.output))


def _table_rows(output: str) -> list[list[str]]:
    """Return the cells of each row of the tables drawn in ``output``."""
    return [
        [cell.strip() for cell in line.strip("│ ").split("│")]
        for line in output.splitlines()
        if line.startswith("│")
    ]
