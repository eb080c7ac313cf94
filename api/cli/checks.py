"""Setup problems (a bad setting, a database that cannot be used) as one line and an exit."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

from pydantic import ValidationError
from pydantic_core import ErrorDetails
from rich.console import Console
from rich.markup import escape
from sqlalchemy import Engine

from layers.database import check_database, make_engine
from layers.errors import DatabaseUnavailable
from layers.settings import Settings

errors = Console(stderr=True)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``message`` as one red line on stderr and exit with ``code``."""
    errors.print(f"[red]{escape(message)}[/red]", soft_wrap=True, highlight=False)
    raise SystemExit(code)


def _env_name(section: str, location: tuple[int | str, ...]) -> str:
    """Return the environment variable of a setting, from its class name and field."""
    prefix = str(Settings.model_config.get("env_prefix", ""))
    for field in Settings.model_fields.values():
        if isinstance(field.annotation, type) and field.annotation.__name__ == section:
            prefix = str(field.annotation.model_config.get("env_prefix", ""))
    return (prefix + "_".join(str(part) for part in location)).upper()


def load_settings() -> Settings:
    """Return the settings from the environment; exit with one line naming a bad one."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = [
            f"{_env_name(exc.title, error['loc'])}: {_reason(error)}" for error in exc.errors()
        ]
        fail("; ".join(problems), code=2)


def _reason(error: ErrorDetails) -> str:
    """Return what a validator said, without pydantic's "Value error, " in front."""
    return str(error.get("ctx", {}).get("error") or error["msg"])


@contextmanager
def database_problems() -> Iterator[None]:
    """Exit with one line when the database cannot be reached or set up."""
    try:
        yield
    except DatabaseUnavailable as exc:
        fail(exc.message)


def ready_engine(settings: Settings) -> Engine:
    """Return an engine on a reachable, migrated PostGIS; exit with one line if it is not."""
    engine = make_engine(settings)
    with database_problems():
        check_database(engine, settings)
    return engine
