"""The in-process session cache: TTL, the session's own end, drops, suspension, and races."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from layers.accounts import session_cache
from layers.accounts.roles import Role
from layers.accounts.scope import Actor
from layers.accounts.service import LiveSession
from layers.accounts.session_cache import SessionCache

ACTOR = Actor(user_id=1, username="zhang", role=Role.OFFICER)
OTHER = Actor(user_id=2, username="li", role=Role.PLANNER)


def live(actor: Actor = ACTOR, ends_in_s: float = 3600) -> LiveSession:
    return LiveSession(actor, None, datetime.now(UTC) + timedelta(seconds=ends_in_s))


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [1000.0]
    monkeypatch.setattr(session_cache.time, "monotonic", lambda: now[0])
    return now


def put(cache: SessionCache, key: str, entry: LiveSession) -> None:
    cache.put(key, entry, generation=cache.generation)


def test_entries_expire_after_the_ttl(clock: list[float]) -> None:
    cache = SessionCache(ttl_s=5)
    entry = live()
    put(cache, "a", entry)
    clock[0] += 4.9
    assert cache.get("a") == entry
    clock[0] += 0.2
    assert cache.get("a") is None


def test_an_entry_never_outlives_its_session(clock: list[float]) -> None:
    cache = SessionCache(ttl_s=60)
    put(cache, "a", live(ends_in_s=2))
    clock[0] += 2.5
    assert cache.get("a") is None
    put(cache, "b", live(ends_in_s=-1))  # already over: not stored at all
    assert cache.get("b") is None


def test_drop_drop_user_and_capacity(clock: list[float]) -> None:
    cache = SessionCache(ttl_s=5, max_entries=2)
    for key in ("a", "b", "c"):
        put(cache, key, live())
    assert cache.get("a") is None  # the oldest went when the third came
    assert cache.get("c") is not None
    cache.drop("c")
    assert cache.get("c") is None
    put(cache, "d", live(OTHER))
    cache.drop_user(ACTOR.user_id or 0)
    assert cache.get("b") is None and cache.get("d") is not None


def test_a_resolution_that_raced_a_drop_is_not_stored(clock: list[float]) -> None:
    cache = SessionCache(ttl_s=5)
    seen = cache.generation  # read before the database was asked
    cache.drop("a")  # a revocation heard meanwhile
    cache.put("a", live(), generation=seen)
    assert cache.get("a") is None


def test_a_suspended_cache_remembers_nothing_until_resumed(clock: list[float]) -> None:
    cache = SessionCache(ttl_s=5)
    put(cache, "a", live())
    cache.suspend()
    assert cache.get("a") is None
    put(cache, "a", live())
    assert cache.get("a") is None
    cache.resume()
    put(cache, "a", live())
    assert cache.get("a") is not None


def test_zero_ttl_disables_the_cache(clock: list[float]) -> None:
    cache = SessionCache(ttl_s=0)
    put(cache, "a", live())
    assert cache.get("a") is None
