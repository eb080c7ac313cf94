"""The project-local PostgreSQL cluster under ``.warroom/`` that ``make run`` starts.

When we run as root the cluster runs as an unprivileged system user (PostgreSQL
refuses root); if that user cannot reach the project directory (a clone under
``/root``), the data lives in ``/var/lib/warroom/<hash>`` and ``.warroom/pgdata``
links to it.

The cluster has an owner role that runs the migrations and owns the databases and the
audit log, and the application's role (``layers.privileges``), each with a generated
password in ``.warroom/roles.json`` (0600). Every login over TCP is scram-sha-256.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import secrets
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from layers.settings import ClusterSettings, Settings

logger = logging.getLogger(__name__)

SERVER_CONF = """
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{socket_dir}'
shared_buffers = '512MB'
work_mem = '32MB'
maintenance_work_mem = '512MB'
effective_cache_size = '4GB'
max_wal_size = '4GB'
random_page_cost = 1.1
log_min_duration_statement = 2000
"""

# Every role logs in with its password over TCP. The socket lies in the data directory,
# which only the cluster's system user (and root) may enter: there the superuser is
# trusted, to set the roles' passwords before anything else can log in.
CLIENT_AUTH = """\
# Written by warroom (layers/cluster.py) on every start.
local   all          all                      trust
host    all          all        127.0.0.1/32  scram-sha-256
host    replication  postgres   127.0.0.1/32  scram-sha-256
"""
SUPERUSER = "postgres"
OWNER_ROLE = "warroom_owner"  # runs the migrations, owns the databases and the audit log
APP_ROLE = "warroom_app"  # what the app logs in as (layers/privileges.py)
_ROLE_ATTRIBUTES = {
    SUPERUSER: "SUPERUSER",
    OWNER_ROLE: "NOSUPERUSER CREATEDB NOCREATEROLE",
    APP_ROLE: "NOSUPERUSER NOCREATEDB NOCREATEROLE",
}


class ClusterError(RuntimeError):
    """The local cluster cannot be set up or started; the message says what to do."""


def _pg_bindir() -> Path:
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name)
    )
    if not candidates:
        found = shutil.which("initdb")
        if found is None:
            raise ClusterError(
                "PostgreSQL server binaries not found; install postgresql and postgis "
                "(Debian: apt-get install postgresql postgresql-15-postgis-3) or set "
                "WARROOM_DATABASE_URL to an existing PostGIS"
            )
        return Path(found).parent
    return candidates[-1].parent


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


@dataclass
class LocalCluster:
    """Start, stop and inspect the project-local cluster."""

    settings: ClusterSettings

    @property
    def home(self) -> Path:
        """Return the ``.warroom`` directory that holds the cluster's state."""
        return self.settings.data_dir.parent

    @property
    def data_dir(self) -> Path:
        """Return the data directory (``.warroom/pgdata``, possibly a link)."""
        return self.settings.data_dir

    @property
    def _state_file(self) -> Path:
        return self.home / "cluster.json"

    @property
    def port(self) -> int:
        """Return the port the cluster was set up on (the configured one before that)."""
        if self._state_file.exists():
            return int(json.loads(self._state_file.read_text())["port"])
        return self.settings.port

    @property
    def _as_root(self) -> bool:
        return os.geteuid() == 0

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(_pg_bindir() / args[0]), *args[1:]]
        if self._as_root:
            command = ["runuser", "-u", self.settings.os_user, "--", *command]
        return subprocess.run(command, check=check, capture_output=True, text=True)

    @property
    def _passwords_file(self) -> Path:
        return self.home / "roles.json"

    def _passwords(self) -> dict[str, str]:
        """Return each role's password, made the first time and kept readable by us alone."""
        path = self._passwords_file
        if not path.exists():
            made = {role: secrets.token_urlsafe(24) for role in _ROLE_ATTRIBUTES}
            self.home.mkdir(parents=True, exist_ok=True)
            try:  # 0600 from the first byte; whoever writes it first, every process reads it
                descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(descriptor, "w") as stream:
                    json.dump(made, stream)
        kept: dict[str, str] = json.loads(path.read_text())
        if not set(kept) >= set(_ROLE_ATTRIBUTES):
            raise ClusterError(f"{path} lacks a password of {sorted(_ROLE_ATTRIBUTES)}: delete it "
                               "and run `warroom db start`, which sets new ones")  # fmt: skip
        return kept

    def _role_url(self, role: str, database: str | None) -> str:
        name = database or self.settings.database
        password = self._passwords()[role]
        return f"postgresql+psycopg2://{role}:{password}@127.0.0.1:{self.port}/{name}"

    def url(self, database: str | None = None) -> str:
        """Return the URL of a database on this cluster as the application's role."""
        return self._role_url(APP_ROLE, database)

    def owner_url(self, database: str | None = None) -> str:
        """Return the URL of a database on this cluster as its owner (for migrations)."""
        return self._role_url(OWNER_ROLE, database)

    def superuser_url(self, database: str | None = None) -> str:
        """Return the URL of a database on this cluster as the superuser."""
        return self._role_url(SUPERUSER, database)

    def is_running(self) -> bool:
        """Return whether the cluster's postmaster is up."""
        if not (self.data_dir / "PG_VERSION").exists():
            return False
        return self._run("pg_ctl", "-D", str(self.data_dir), "status", check=False).returncode == 0

    def _reachable_by_os_user(self, path: Path) -> bool:
        probe = ["runuser", "-u", self.settings.os_user, "--", "test", "-w", str(path)]
        return subprocess.run(probe, capture_output=True).returncode == 0

    def _prepare_dirs(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        if not self._as_root:
            self.data_dir.mkdir(mode=0o700, exist_ok=True)
            return
        user = self.settings.os_user
        if subprocess.run(["id", "-u", user], capture_output=True).returncode != 0:
            subprocess.run(["useradd", "--system", "--home-dir", "/var/lib/postgresql", user],
                           check=True)  # fmt: skip
        shutil.chown(self.home, user=user)
        if self._reachable_by_os_user(self.home):
            self.data_dir.mkdir(mode=0o700, exist_ok=True)
            shutil.chown(self.data_dir, user=user)
            return
        digest = hashlib.sha1(str(self.home).encode()).hexdigest()[:12]
        outside = Path("/var/lib/warroom") / digest / "pgdata"
        outside.mkdir(parents=True, exist_ok=True, mode=0o700)
        for path in (outside, outside.parent):
            shutil.chown(path, user=user)
        if not self.data_dir.is_symlink():
            self.data_dir.symlink_to(outside)
        logger.warning("%s cannot reach %s; cluster data is in %s", user, self.home, outside)

    def _choose_port(self) -> int:
        port = self.settings.port
        while not _port_free(port):
            port += 1
        self._state_file.write_text(json.dumps({"port": port}))
        return port

    def init(self) -> bool:
        """Create the cluster if it does not exist; return whether it was created."""
        if (self.data_dir / "PG_VERSION").exists():
            return False
        self._prepare_dirs()
        port = self._choose_port()
        self._run("initdb", "-D", str(self.data_dir.resolve()), "-U", "postgres",
                  "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8")  # fmt: skip
        data = self.data_dir.resolve()
        socket_dir = data / "run"
        socket_dir.mkdir(exist_ok=True)
        with (data / "postgresql.conf").open("a") as conf:
            conf.write(SERVER_CONF.format(port=port, socket_dir=socket_dir))
        if self._as_root:
            shutil.chown(socket_dir, user=self.settings.os_user)
        return True

    def _write_client_auth(self) -> bool:
        """Make ``pg_hba.conf`` say ``CLIENT_AUTH``; return whether it changed."""
        path = self.data_dir.resolve() / "pg_hba.conf"
        if path.read_text() == CLIENT_AUTH:
            return False
        path.write_text(CLIENT_AUTH)  # rewritten in place: it keeps its owner
        return True

    def start(self) -> None:
        """Initialise if needed, start the server and create the project database.

        One process at a time: test workers and a second ``make`` wait for the first.
        """
        self.home.mkdir(parents=True, exist_ok=True)
        with (self.home / "start.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self._start()

    def _start(self) -> None:
        self.init()
        if self._write_client_auth() and self.is_running():
            self._run("pg_ctl", "-D", str(self.data_dir.resolve()), "reload")
        if not self.is_running():
            if not _port_free(self.port):
                raise ClusterError(
                    f"port {self.port} is taken by another server; stop it, or delete "
                    f"{self._state_file} and {self.data_dir} to set the cluster up again"
                )
            log = self.data_dir.resolve() / "server.log"
            result = self._run("pg_ctl", "-D", str(self.data_dir.resolve()), "-l", str(log),
                               "-w", "-t", "60", "start", check=False)  # fmt: skip
            if result.returncode != 0:
                raise ClusterError(f"PostgreSQL did not start: {result.stderr.strip()}; see {log}")
        self._ensure_roles()
        self.ensure_database(self.settings.database)

    def stop(self) -> None:
        """Stop the server if it runs."""
        if self.is_running():
            self._run("pg_ctl", "-D", str(self.data_dir.resolve()), "-m", "fast", "-w", "stop")

    def _ensure_roles(self) -> None:
        """Create the owner and application roles if missing; (re)set every role's password."""
        socket_dir = self.data_dir.resolve() / "run"
        local = f"postgresql+psycopg2://{SUPERUSER}@/postgres?host={socket_dir}&port={self.port}"
        engine = create_engine(local, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            for role, attributes in _ROLE_ATTRIBUTES.items():
                conn.execute(text(f"DO $$ BEGIN CREATE ROLE {role}; "
                                  "EXCEPTION WHEN duplicate_object THEN NULL; END $$"))  # fmt: skip
                # psycopg2 writes the password into the statement as a quoted literal
                conn.execute(text(f"ALTER ROLE {role} WITH LOGIN {attributes} PASSWORD :p"),
                             {"p": self._passwords()[role]})  # fmt: skip
            conn.execute(text(f"GRANT {APP_ROLE} TO {OWNER_ROLE}"))
        engine.dispose()

    def ensure_database(self, name: str) -> None:
        """Create database ``name`` if missing; make it the owner's, with PostGIS and the grants.

        A database made before the roles (owned by the superuser) is handed over here.
        """
        from layers.database import ensure_database  # layers.database imports this module
        from layers.privileges import secure_database

        ensure_database(self.superuser_url("postgres"), name)
        engine = create_engine(self.superuser_url(name), poolclass=NullPool)
        with engine.begin() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" OWNER TO {OWNER_ROLE}'))
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
            secure_database(conn, APP_ROLE)
        engine.dispose()


def database_url(settings: Settings) -> str:
    """Return the database to use: ``WARROOM_DATABASE_URL`` or the local cluster's."""
    return settings.database.url or LocalCluster(settings.cluster).url()


def owner_database_url(settings: Settings) -> str:
    """Return the same database as its owner: ``WARROOM_DATABASE_OWNER_URL``, else the one URL."""
    database = settings.database
    return database.owner_url or database.url or LocalCluster(settings.cluster).owner_url()
