"""SM4-GCM sealed values bound to their place, masks and blind indexes."""

from __future__ import annotations

import pytest

from layers.crypto.fields import OVERHEAD, FieldCipher, sealed_version
from layers.crypto.keys import KeyRing
from layers.crypto.personal import BlindIndex, mask, normalise
from layers.errors import KeySourceError, TamperedData

PLACE = ("units", "contact_phone", 7)


def test_a_sealed_value_opens_only_where_it_was_sealed() -> None:
    cipher = FieldCipher(KeyRing.generate())
    sealed = cipher.seal("13812341234", PLACE)
    assert b"13812341234" not in sealed and len(sealed) == OVERHEAD + len("13812341234")
    assert cipher.open(sealed, PLACE) == "13812341234"
    assert cipher.seal("13812341234", PLACE) != sealed  # a fresh nonce every time
    for elsewhere in [("units", "contact_phone", 8), ("units", "contact_name", 7),
                      ("records", "contact_phone", 7)]:  # fmt: skip
        with pytest.raises(TamperedData, match="changed or moved"):
            cipher.open(sealed, elsewhere)


@pytest.mark.parametrize("position", [3, 15, -1])  # nonce, ciphertext, tag
def test_a_changed_byte_is_a_clear_error_not_garbage(position: int) -> None:
    cipher = FieldCipher(KeyRing.generate())
    sealed = bytearray(cipher.seal("张三", PLACE))
    sealed[position] ^= 0x01
    with pytest.raises(TamperedData, match="does not verify under key version 1"):
        cipher.open(bytes(sealed), PLACE)


def test_the_wrong_key_is_a_clear_error() -> None:
    sealed = FieldCipher(KeyRing.generate()).seal("张三", PLACE)
    with pytest.raises(TamperedData, match="not the one it was sealed with"):
        FieldCipher(KeyRing.generate()).open(sealed, PLACE)
    later = KeyRing({2: b"\x01" * 32}, 2)
    with pytest.raises(KeySourceError, match="version 1 is not in the key ring"):
        FieldCipher(later).open(sealed, PLACE)
    with pytest.raises(TamperedData, match="not a sealed value"):
        FieldCipher(later).open(b"13812341234", PLACE)


def test_values_of_an_old_version_open_and_reseal_under_the_new_one() -> None:
    old = KeyRing.generate()
    sealed = FieldCipher(old).seal("13812341234", PLACE)
    new = old.with_new_version()
    cipher = FieldCipher(new)
    assert sealed_version(sealed) == 1 and cipher.open(sealed, PLACE) == "13812341234"
    again = cipher.reseal(sealed, PLACE)
    assert sealed_version(again) == 2 and cipher.open(again, PLACE) == "13812341234"
    assert cipher.reseal(again, PLACE) == again


@pytest.mark.parametrize(
    ("kind", "value", "shown"),
    [
        ("phone", "13812341234", "138****1234"),
        ("phone", "010-66668888", "010-****8888"),
        ("phone", "12345", "***45"),
        ("name", "张三", "张*"),
        ("name", "欧阳娜娜", "欧***"),
        ("name", "张", "*"),
        ("id_number", "11010519491231002X", "1101**********002X"),
    ],
)
def test_masks_keep_only_the_ends(kind: str, value: str, shown: str) -> None:
    assert mask(kind, value) == shown  # type: ignore[arg-type]


def test_the_blind_index_matches_equal_values_under_every_version() -> None:
    ring = KeyRing.generate()
    blind = BlindIndex(ring)
    assert normalise("phone", "+86 138-1234-1234") == "13812341234"
    assert blind.digest("phone", "+86 138-1234-1234") == blind.digest("phone", "13812341234")
    assert blind.digest("phone", "13812341234") != blind.digest("phone", "13812341235")
    assert blind.digest("id_number", "11010519491231002x") == blind.digest(
        "id_number", "11010519491231002X"
    )
    newer = BlindIndex(ring.with_new_version())
    candidates = newer.candidates("phone", "13812341234")
    assert len(candidates) == 2 and blind.digest("phone", "13812341234") == candidates[0]
    assert candidates[1] != candidates[0]  # the new version's key gives another digest
