"""Sessions that carry the run's key ring, for tests that make an engine of their own.

Every audit record is sealed with the key ring's audit key (``layers.audit.chain``), so
a session that writes one needs the ring; the run's ring is the key file conftest.py
names in ``WARROOM_CRYPTO_KEY_FILE``.
"""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from layers.crypto.keys import bind_key_ring, load_key_ring
from layers.settings import CryptoSettings


def keyed(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """Return ``factory`` carrying the run's key ring."""
    return bind_key_ring(factory, load_key_ring(CryptoSettings()))


def keyed_sessions(engine: Engine) -> sessionmaker[Session]:
    """Return sessions on ``engine`` carrying the run's key ring."""
    return keyed(sessionmaker(bind=engine, expire_on_commit=False))
