"""Benchmark the unit portal's home page at scale, beside hand-written SQL.

    flock /tmp/warroom-bench.lock .venv/bin/python -m bench.portal --units 100000 --records 5000000

Makes a demo city of ``--units`` units in ``warroom_bench_portal`` on 127.0.0.1:5432 (loaded
if empty), draws its demo records until there are about ``--records`` (a unit has
``records / units`` of them: 50 at the defaults, ten times the density of the
1,000,000-unit city), gives every unit a portal account (``--units`` unit accounts; the
ones the benchmark signs in as are made through ``create_user``, the rest by SQL), then
times, taking turns on the same pool:

- ``portal_home`` (the domain function ``GET /api/portal/home`` calls) for a random unit,
  against the same questions written by hand in SQL (the baseline);
- ``GET /api/portal/home`` through the portal app in-process (routing, session lookup,
  the unit-only check, the response model), signed in as one of 20 unit users.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.orm import Session

from bench.query import prepare_database
from layers.accounts.passwords import hash_password
from layers.accounts.roles import Role
from layers.accounts.scope import SYSTEM, Actor, Scope, ScopeKind
from layers.accounts.service import Jurisdiction, create_user
from layers.crypto.keys import bind_key_ring, load_key_ring
from layers.database import make_sessionmaker
from layers.demo.records import load_demo_records
from layers.portal import portal_home
from layers.records.models import Record
from layers.settings import (
    CryptoSettings,
    DatabaseSettings,
    LimitSettings,
    SecuritySettings,
    Settings,
)
from warroom_ui.portal import create_portal_app

DATABASE = "warroom_bench_portal"
PASSWORD = "Bench-portal-2026!"
SIGNED_IN = 20
RECORDS_PER_ROUND = 0.85  # demo records a unit a round (bench/records.py)

# every kind's closed states, written out by hand
_CLOSED = [
    "verified", "reviewed", "returned", "approved", "rejected", "withdrawn", "finished",
    "acknowledged", "archived", "cancelled", "accepted", "done", "confirmed", "unfounded",
]  # fmt: skip
_HAND_OPEN = """
WITH about AS (
    SELECT record_id FROM record_links WHERE layer = 'units' AND feature_id = :unit
    UNION ALL
    SELECT l.record_id FROM record_links l
    JOIN feature_operators o ON o.layer = l.layer AND o.feature_id = l.feature_id
    WHERE o.unit_id = :unit
)
SELECT r.id, r.kind, r.state, r.title, r.due_at FROM records r
WHERE r.id IN (SELECT record_id FROM about) AND r.state <> ALL(CAST(:closed AS text[]))
ORDER BY r.id DESC LIMIT 500
"""
_HAND_NOTICES = """
SELECT m.id, m.read_at, r.title FROM messages m JOIN records r ON r.id = m.record_id
WHERE ((m.recipient_type = 'user' AND m.recipient_id = :user)
       OR (m.recipient_type = 'unit' AND m.recipient_id = :unit)) AND r.kind = 'notice'
ORDER BY m.id DESC LIMIT 5
"""
_HAND_UNREAD = """
SELECT count(*) FROM messages m JOIN records r ON r.id = m.record_id
WHERE ((m.recipient_type = 'user' AND m.recipient_id = :user)
       OR (m.recipient_type = 'unit' AND m.recipient_id = :unit))
  AND r.kind = 'notice' AND m.read_at IS NULL
"""
_HAND_ORGANISATION = """
SELECT id, name FROM units WHERE id = :unit;
"""
_ACCOUNTS = """
INSERT INTO users (username, password_hash, role, unit_id, is_active, password_must_change,
                   failed_logins)
SELECT 'bench-unit-' || u.id, :hash, 'unit', u.id, true, false, 0 FROM units u
WHERE NOT EXISTS (SELECT 1 FROM users x WHERE x.unit_id = u.id)
"""


def _ms(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return (time.perf_counter() - started) * 1000


def _records(engine: Engine, units: int, wanted: int) -> int:
    """Draw the demo records until there are about ``wanted``; return how many there are."""
    with Session(engine) as session:
        have = session.scalar(select(func.count()).select_from(Record)) or 0
        if have < wanted * 0.8:
            rounds = max(1, round(wanted / (units * RECORDS_PER_ROUND)))
            started = time.perf_counter()
            load_demo_records(session, seed=42, now=datetime.now(UTC), rounds=rounds)
            session.commit()
            print(f"drew {rounds} rounds of records in {time.perf_counter() - started:.0f} s")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE records, record_links, messages, users"))
        return int(conn.scalar(text("SELECT count(*) FROM records")) or 0)


def _accounts(engine: Engine, key_ring_url: str) -> list[tuple[str, int, int]]:
    """Give every unit an account; return (name, user id, unit id) of the ones signed in as."""
    factory = bind_key_ring(make_sessionmaker(engine), load_key_ring(CryptoSettings()))
    signed: list[tuple[str, int, int]] = []
    with factory() as session, session.begin():
        units = session.scalars(text(
            "SELECT u.id FROM units u WHERE NOT EXISTS "
            "(SELECT 1 FROM users x WHERE x.unit_id = u.id) ORDER BY random() LIMIT :n"
        ), {"n": SIGNED_IN}).all()  # fmt: skip
        for unit_id in units:
            user = create_user(session=session, username=f"bench-portal-{unit_id}",
                               password=PASSWORD, role=Role.UNIT,
                               where=Jurisdiction(unit_id=unit_id), actor=SYSTEM,
                               policy=SecuritySettings(), must_change_password=False)  # fmt: skip
            signed.append((user.username, user.id, unit_id))
        session.execute(text(_ACCOUNTS), {"hash": hash_password(PASSWORD)})
    if not signed:  # made before: sign in as those
        with Session(engine) as session:
            signed = [(n, i, u) for n, i, u in session.execute(text(
                "SELECT username, id, unit_id FROM users WHERE username LIKE 'bench-portal-%' "
                "ORDER BY id LIMIT :n"), {"n": SIGNED_IN})]  # fmt: skip
    print(f"{key_ring_url.rsplit('/', 1)[-1]}: signing in as {len(signed)} unit users")
    return signed


def _p50(times: list[float]) -> float:
    return statistics.median(times)


def main() -> None:
    """Load, then print the figures and the ratio to the baseline."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--records", type=int, default=5_000_000)
    parser.add_argument("--repeats", type=int, default=300)
    args = parser.parse_args()
    url = prepare_database(args.units, 42, DATABASE, reload=False)
    engine = create_engine(url, pool_size=4)
    records = _records(engine, args.units, args.records)
    signed = _accounts(engine, url)
    with Session(engine) as session:
        accounts = session.scalar(text("SELECT count(*) FROM users WHERE role = 'unit'"))
        units = session.scalar(text("SELECT count(*) FROM units"))
    print(f"{units} units, {accounts} unit accounts, {records} records")
    factory = bind_key_ring(make_sessionmaker(engine), load_key_ring(CryptoSettings()))
    rng = random.Random(7)
    with Session(engine) as session:
        sample = session.execute(text(
            "SELECT id, unit_id FROM users WHERE role = 'unit' ORDER BY random() LIMIT 5000"
        )).all()  # fmt: skip
    ours: list[float] = []
    hand: list[float] = []
    for _ in range(args.repeats):
        user_id, unit_id = rng.choice(sample)
        actor = Actor(user_id, "bench", Role.UNIT, Scope(ScopeKind.UNIT, unit_id))
        with factory() as session:
            now = datetime.now(UTC)
            ours.append(_ms(lambda: portal_home(session=session, actor=actor, now=now)))  # noqa: B023
        with Session(engine) as session:
            params = {"unit": unit_id, "user": user_id, "closed": _CLOSED}

            def baseline() -> None:
                session.execute(text(_HAND_ORGANISATION), params).all()  # noqa: B023
                session.execute(text(_HAND_OPEN), params).all()  # noqa: B023
                session.execute(text(_HAND_NOTICES), params).all()  # noqa: B023
                session.execute(text(_HAND_UNREAD), params).scalar()  # noqa: B023

            hand.append(_ms(baseline))
    settings = Settings(
        database=DatabaseSettings(url=url),
        limits=LimitSettings(session_requests_per_minute=0, address_requests_per_minute=0),
        trusted_hosts=["testserver"],
    )  # fmt: skip
    http: list[float] = []
    with TestClient(create_portal_app(settings)) as client:
        tokens = []
        for name, _, _ in signed:
            answer = client.post("/api/auth/login", json={"username": name, "password": PASSWORD})
            tokens.append({"Authorization": f"Bearer {answer.json()['access_token']}"})
            client.cookies.clear()  # the bearer token only: a cookie would make writes CSRF-checked
        for _ in range(args.repeats):
            headers = rng.choice(tokens)
            started = time.perf_counter()
            answer = client.get("/api/portal/home", headers=headers)
            http.append((time.perf_counter() - started) * 1000)
            assert answer.status_code == 200, answer.text
    print(f"{'question':44} {'p50':>9} {'p95':>9}")
    for name, times in (("portal_home (domain)", ours), ("hand-written SQL (baseline)", hand),
                        ("GET /api/portal/home (HTTP, in-process)", http)):  # fmt: skip
        p95 = statistics.quantiles(times, n=20)[-1]
        print(f"{name:44} {_p50(times):8.2f}ms {p95:8.2f}ms")
    print(f"domain / baseline: {_p50(ours) / _p50(hand):.2f}x")
    engine.dispose()


if __name__ == "__main__":
    main()
