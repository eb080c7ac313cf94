"""A throwaway, migrated PostGIS database per test run, the demo city and an app on it."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from api.app import create_app
from layers.cluster import LocalCluster
from layers.crypto.keys import FileKeySource, bind_key_ring, load_key_ring
from layers.database import make_engine, make_sessionmaker
from layers.migrate import upgrade
from layers.settings import (
    ClusterSettings,
    CryptoSettings,
    DatabaseSettings,
    LimitSettings,
    SecuritySettings,
    Settings,
    TrainingSettings,
)
from tests.utils.city import DEMO_SEED, DEMO_UNITS

# Test users log in with a password alone, in whatever app a test builds; the second
# factor is tested with the production roles set explicitly (tests/api/test_totp.py).
os.environ["WARROOM_SECURITY_SECOND_FACTOR_ROLES"] = ""

# ../shared/beijing_geodata beside the clone, or wherever WARROOM_SHARED_DATA says.
_BESIDE = Path(__file__).resolve().parents[2] / "shared" / "beijing_geodata"
SHARED_DATA = Path(os.environ.get("WARROOM_SHARED_DATA") or _BESIDE)


def _server_url() -> str:
    given = DatabaseSettings()  # any accepted form, written with our driver
    if given.url:
        return given.owner_url or given.url
    cluster = LocalCluster(ClusterSettings())
    cluster.start()
    return cluster.superuser_url()


def role_urls() -> tuple[str, str] | None:
    """Return URLs of the owner and of the application's role (any database), if they differ.

    None with one URL only: then the tests' role is the owner and the application alike.
    """
    given = DatabaseSettings()
    if given.url is None:
        cluster = LocalCluster(ClusterSettings())
        return cluster.owner_url(), cluster.url()
    return (given.owner_url, given.url) if given.owner_url else None


def as_role(url: str, role_url: str) -> str:
    """Return the database of ``url`` reached with the credentials of ``role_url``."""
    database = make_url(url).database
    return make_url(role_url).set(database=database).render_as_string(hide_password=False)


def _current_user(url: str) -> str:
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        role = str(conn.scalar(text("SELECT current_user")))
    engine.dispose()
    return role


def _admin_connection(url: str) -> psycopg2.extensions.connection:
    parsed = make_url(url)
    conn = psycopg2.connect(
        host=parsed.host, port=parsed.port, user=parsed.username,
        password=parsed.password, dbname="postgres",
    )  # fmt: skip
    conn.autocommit = True
    return conn


def _migrate(url: str) -> None:
    roles = role_urls()
    if roles is None:
        upgrade(url)
        return
    if DatabaseSettings().url is None:  # PostGIS and the owner, as `warroom db start`
        LocalCluster(ClusterSettings()).ensure_database(str(make_url(url).database))
    owner, app = (as_role(url, role) for role in roles)
    upgrade(owner, app_role=_current_user(app))


@contextmanager
def throwaway_database(server: str, template: str | None = None) -> Iterator[str]:
    """Create an empty, migrated database on ``server``; drop it afterwards.

    It is set up as a deployment is: migrated by the owner, the application's role given
    what it needs (``layers.privileges``), except with one URL only. The URL yielded is
    ``server``'s role's (the local superuser's); ``as_role`` reaches it as another role.
    Given the name of a ``template`` made so, the database is a copy of it, with its owner.
    """
    name = f"warroom_test_{uuid.uuid4().hex[:10]}"
    conn = _admin_connection(server)
    with conn.cursor() as cur:
        if template is None:
            cur.execute(f'CREATE DATABASE "{name}"')
        else:
            cur.execute("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s",
                        (template,))  # fmt: skip
            (owner,) = cur.fetchone()
            cur.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}" OWNER "{owner}"')
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    try:
        if template is None:
            _migrate(url)
        yield url
    finally:
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.close()


@pytest.fixture(scope="session")
def server_url() -> str:
    """The PostGIS server of this run, as a role that creates databases: the local superuser,
    or WARROOM_DATABASE_OWNER_URL's / WARROOM_DATABASE_URL's."""
    return _server_url()


@pytest.fixture(scope="session")
def migrated_template(server_url: str) -> Iterator[str]:
    """The name of a migrated database that the run's databases are copied from: a copy
    takes a second where migrating takes ten."""
    with throwaway_database(server_url) as url:
        yield str(make_url(url).database)


@pytest.fixture(scope="session")
def shared_database(server_url: str, migrated_template: str) -> Iterator[str]:
    """The run's shared throwaway database, as the server's role."""
    with throwaway_database(server_url, migrated_template) as url:
        yield url


@pytest.fixture(scope="session")
def database_url(shared_database: str) -> str:
    """The run's shared database as the application's role: what the app logs in as."""
    roles = role_urls()
    return as_role(shared_database, roles[1]) if roles else shared_database


@pytest.fixture(scope="session")
def owner_database_url(shared_database: str) -> str:
    """The run's shared database as its owner (who runs the migrations)."""
    roles = role_urls()
    return as_role(shared_database, roles[0]) if roles else shared_database


@pytest.fixture
def scratch_database_url(server_url: str, migrated_template: str) -> Iterator[str]:
    """A throwaway database of one test's own, for tests that break the schema."""
    with throwaway_database(server_url, migrated_template) as url:
        yield url


# Every Settings() of the run (apps, the CLI) reads a key file of the run's own (mode
# 0600), never the checkout's .warroom/keys.json.
_KEYS = FileKeySource(Path(tempfile.mkdtemp(prefix="warroom-test-keys-")) / "keys.json")
_KEYS.create_if_missing()
os.environ["WARROOM_CRYPTO_KEY_FILE"] = str(_KEYS.path)


@pytest.fixture(scope="session")
def key_file() -> Path:
    """The run's key ring file."""
    return _KEYS.path


@pytest.fixture(scope="session")
def settings(database_url: str, key_file: Path) -> Settings:
    """Settings pointing at the throwaway database and the run's key file.

    The session cache is off so that tests see expiry and revocation at once; its own
    behaviour is tested in tests/layers/test_session_cache.py and tests/api/test_auth.py.
    The requests-a-minute limits are off, as the whole run is one caller; they are tested
    on an app of their own in tests/api/test_rate_limits.py. Training resources are capped
    at 256 KiB, so that the body-cap test of every write route sends little, and read
    out 64 KiB at a time, so that one video takes several slices.
    """
    return Settings(
        database=DatabaseSettings(url=database_url),
        security=SecuritySettings(session_cache_seconds=0),
        limits=LimitSettings(session_requests_per_minute=0, address_requests_per_minute=0),
        trusted_hosts=["testserver"],  # the Host of Starlette's TestClient
        crypto=CryptoSettings(key_file=key_file),
        training=TrainingSettings(
            video_bytes=256 * 1024, document_bytes=128 * 1024, read_chunk_bytes=64 * 1024
        ),
    )


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    """An engine on the throwaway database."""
    engine = make_engine(settings)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def session_factory(engine: Engine, settings: Settings) -> sessionmaker[Session]:
    """Sessions on the throwaway database, carrying the run's key ring."""
    return bind_key_ring(make_sessionmaker(engine), load_key_ring(settings.crypto))


@pytest.fixture(scope="session")
def city(engine: Engine, settings: Settings) -> None:
    """Load a small demo city once per run (its contacts sealed with the run's keys)."""
    from layers.demo.load import load_demo_city

    load_demo_city(engine, units=DEMO_UNITS, seed=DEMO_SEED, keys=load_key_ring(settings.crypto))


@pytest.fixture(scope="session")
def client(settings: Settings, city: None) -> Iterator[TestClient]:
    """An HTTP client on the app built for the throwaway database."""
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real Beijing files beside the project; skip when they are absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real Beijing data not found at {SHARED_DATA}")
    return SHARED_DATA


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the browser tests first: they are the longest files, and on parallel workers
    (``make test``: one file per worker at a time) a long file begun last keeps the whole
    run waiting on one worker."""
    items.sort(key=lambda item: item.path.parent.name != "ui")
