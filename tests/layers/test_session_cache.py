"""The in-process session cache forgets entries after their TTL, on drop and when full."""

from __future__ import annotations

import pytest

from layers.accounts import session_cache
from layers.accounts.roles import Role
from layers.accounts.scope import Actor
from layers.accounts.session_cache import SessionCache

ACTOR = Actor(user_id=1, username="zhang", role=Role.OFFICER)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [1000.0]
    monkeypatch.setattr(session_cache.time, "monotonic", lambda: now[0])
    return now


def test_entries_expire_after_the_ttl(clock: list[float]) -> None:
    cache = SessionCache(ttl_s=5)
    cache.put("a", ACTOR)
    clock[0] += 4.9
    assert cache.get("a") == ACTOR
    clock[0] += 0.2
    assert cache.get("a") is None


def test_drop_and_capacity(clock: list[float]) -> None:
    cache = SessionCache(ttl_s=5, max_entries=2)
    for key in ("a", "b", "c"):
        cache.put(key, ACTOR)
    assert cache.get("a") is None  # the oldest went when the third came
    assert cache.get("c") == ACTOR
    cache.drop("c")
    assert cache.get("c") is None


def test_zero_ttl_disables_the_cache(clock: list[float]) -> None:
    cache = SessionCache(ttl_s=0)
    cache.put("a", ACTOR)
    assert cache.get("a") is None
