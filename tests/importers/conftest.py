"""Helpers for importer tests: run an import as an actor and count rows by id prefix."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from importers.pipeline import run_import
from importers.report import ImportReport, ImportRequest
from layers.accounts.scope import SYSTEM, Actor
from layers.crypto.keys import bind_key_ring, load_key_ring
from layers.settings import CryptoSettings

Importer = Callable[..., ImportReport]
Counter = Callable[[str, str], int]


def importer_on(factory: sessionmaker[Session], reject_dir: Path) -> Importer:
    """Return ``run(path, layer, actor=..., **request fields)`` importing through ``factory``."""

    def _run(path: Path, layer: str, *, actor: Actor = SYSTEM, **fields: Any) -> ImportReport:
        fields.setdefault("reject_dir", reject_dir)
        request = ImportRequest(path=path, layer=layer, **fields)
        return run_import(
            session_factory=factory, request=request, actor=actor, max_vertices=100_000
        )

    return _run


def counter_on(factory: sessionmaker[Session]) -> Counter:
    """Return ``count(table, prefix)``: rows of ``table`` whose external_id starts with it."""

    def _count(table: str, prefix: str) -> int:
        with factory() as session:
            sql = f"SELECT count(*) FROM {table} WHERE external_id LIKE :p"
            return int(session.scalar(text(sql), {"p": prefix + "%"}) or 0)

    return _count


@pytest.fixture
def prefix() -> str:
    """A unique external-id prefix so a test's rows never collide with others'."""
    return f"t{uuid.uuid4().hex[:8]}-"


@pytest.fixture
def run(session_factory: sessionmaker[Session], city: None, tmp_path: Path) -> Importer:
    """Import into the run's shared database (with the demo city)."""
    return importer_on(session_factory, tmp_path)


@pytest.fixture
def count(session_factory: sessionmaker[Session]) -> Counter:
    """Count rows by external-id prefix in the shared database."""
    return counter_on(session_factory)


@pytest.fixture
def scratch(scratch_database_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on an empty database of this test's own (for replace and round trips)."""
    engine = create_engine(scratch_database_url)
    keys = load_key_ring(CryptoSettings())  # the run's key file (tests/conftest.py)
    yield bind_key_ring(sessionmaker(bind=engine, expire_on_commit=False), keys)
    engine.dispose()
