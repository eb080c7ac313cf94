"""WARROOM_DATABASE_URL in every form PostgreSQL users write, normalised to our driver."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from layers.settings import DatabaseSettings, Settings


@pytest.mark.parametrize(
    "given",
    [
        "postgresql://warroom:s%40cret@db.example:6432/city?sslmode=require",
        "postgres://warroom:s%40cret@db.example:6432/city?sslmode=require",
        "postgresql+psycopg2://warroom:s%40cret@db.example:6432/city?sslmode=require",
    ],
)
def test_every_postgresql_form_is_written_with_psycopg2(
    given: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WARROOM_DATABASE_URL", given)
    assert Settings().database.url == (
        "postgresql+psycopg2://warroom:s%40cret@db.example:6432/city?sslmode=require"
    )


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://", "postgresql+psycopg2://"),
        ("postgres:///city", "postgresql+psycopg2:///city"),
        ("postgresql://warroom@/city", "postgresql+psycopg2://warroom@/city"),
    ],
)
def test_parts_left_out_stay_out_for_libpq_to_fill(given: str, expected: str) -> None:
    assert DatabaseSettings(url=given).url == expected


def test_an_empty_url_means_the_local_cluster() -> None:
    assert DatabaseSettings(url="").url is None


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("mysql://warroom@db.example/city", "mysql:// is not PostgreSQL"),
        ("sqlite:///warroom.db", "sqlite:// is not PostgreSQL"),
        ("postgresql+asyncpg://warroom@db.example/city", "driver 'asyncpg' is not installed"),
        ("host=db.example dbname=city", "not a database URL"),
    ],
)
def test_a_url_that_cannot_work_is_refused_saying_what_to_write(given: str, message: str) -> None:
    with pytest.raises(ValidationError) as refused:
        DatabaseSettings(url=given)
    said = str(refused.value)
    assert message in said
    assert "postgresql://user:password@host:port/database" in said
