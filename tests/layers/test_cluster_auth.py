"""The local cluster trusts no TCP connection (#14.5): every role needs its scram password.

Only the superuser's socket is trusted, and it lies in the data directory that nobody but
the cluster's system user (and root) may enter (layers/cluster.py). With an external
cluster (``WARROOM_DATABASE_URL``) its authentication is the deployer's: skipped.
"""

from __future__ import annotations

import psycopg2
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from layers.cluster import APP_ROLE, OWNER_ROLE, SUPERUSER, LocalCluster
from layers.settings import ClusterSettings, DatabaseSettings

pytestmark = pytest.mark.skipif(
    DatabaseSettings().url is not None, reason="an external cluster: its pg_hba is the deployer's"
)
ROLES = (SUPERUSER, OWNER_ROLE, APP_ROLE)


def test_every_tcp_login_needs_the_roles_scram_password(server_url: str) -> None:
    cluster = LocalCluster(ClusterSettings())
    for role in ROLES:
        for password in ("", "not-the-password"):
            with pytest.raises(psycopg2.OperationalError, match="password"):
                psycopg2.connect(
                    host="127.0.0.1", port=cluster.port, user=role, dbname="postgres",
                    password=password, passfile="/dev/null", connect_timeout=5,
                )  # fmt: skip
    engine = create_engine(server_url, poolclass=NullPool)
    with engine.connect() as conn:
        rules = conn.execute(text("SELECT type, auth_method FROM pg_hba_file_rules")).all()
        secrets = text("SELECT rolname, rolpassword FROM pg_authid WHERE rolname = ANY(:roles)")
        stored: dict[str, str] = dict(conn.execute(secrets, {"roles": list(ROLES)}).tuples().all())
    engine.dispose()
    assert {method for kind, method in rules if kind != "local"} == {"scram-sha-256"}, rules
    assert set(stored) == set(ROLES)
    assert all(secret.startswith("SCRAM-SHA-256$") for secret in stored.values())
    assert cluster.data_dir.resolve().stat().st_mode & 0o077 == 0  # the trusted socket's home
