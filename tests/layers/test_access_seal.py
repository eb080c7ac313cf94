"""The seal of a user's authority across key versions (no database needed)."""

from __future__ import annotations

import pytest

from layers.accounts.integrity import is_intact, seal
from layers.accounts.models import User
from layers.crypto.keys import KeyRing
from layers.errors import KeySourceError


def _user() -> User:
    return User(id=41, username="officer-a", role="officer", district_id=None, precinct_id=7,
                unit_id=None, is_active=True)  # fmt: skip


def test_a_seal_records_its_key_version_and_survives_a_rotation() -> None:
    old = KeyRing.generate()
    user = _user()
    seal(old, user)
    assert user.authority_mac is not None and user.authority_mac[:2] == b"\x00\x01"
    rotated = old.with_new_version()
    assert is_intact(rotated, user)  # sealed under version 1, checked with the new ring
    seal(rotated, user)
    assert user.authority_mac[:2] == b"\x00\x02" and is_intact(rotated, user)
    with pytest.raises(KeySourceError, match="version 2"):
        is_intact(old, user)  # a ring without that version says so, never "intact"


@pytest.mark.parametrize(
    ("field", "value"),
    [("role", "commander"), ("precinct_id", 8), ("district_id", 1), ("unit_id", 3),
     ("is_active", False), ("username", "officer-b"), ("id", 42)],
)  # fmt: skip
def test_every_sealed_field_and_the_id_break_the_seal(field: str, value: object) -> None:
    ring = KeyRing.generate()
    user = _user()
    seal(ring, user)
    setattr(user, field, value)
    assert not is_intact(ring, user)


def test_a_seal_under_another_key_fails() -> None:
    user = _user()
    seal(KeyRing.generate(), user)
    assert not is_intact(KeyRing.generate(), user)
