"""The bigrams a searched text column keeps: every substring's grams are its value's."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from layers.features.grams import grams_of, grams_of_values, like_grams, query_grams

# Chinese names with Latin letters, digits, brackets and the odd character beyond the BMP.
TEXT = st.text(alphabet=st.sampled_from("北京朝阳银行医院有限公司（）KTVktv123 -·𠀋"), max_size=30)
# (no LIKE wildcard or escape among them)


@given(TEXT, st.data())
def test_a_value_has_the_grams_of_each_of_its_substrings(value: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(value)))
    q = value[start : data.draw(st.integers(start, len(value)))]
    grams = set(grams_of(value) or [])
    if len(q) >= 2:
        assert set(query_grams(q)) <= grams
    if len(q) == 1 and start == 0:
        assert set(query_grams(q)) <= grams


@given(TEXT, TEXT)
def test_one_character_is_looked_up_at_the_start_only(value: str, other: str) -> None:
    if value and other and value[0].lower() != other[0].lower():
        assert not set(query_grams(value[0])) <= set(grams_of(other) or [])


@given(st.lists(st.none() | TEXT, max_size=20))
def test_many_values_at_once_give_each_value_its_grams(values: list[str | None]) -> None:
    offsets, grams = grams_of_values(values)
    assert len(offsets) == len(values) + 1
    for i, value in enumerate(values):
        mine = grams[offsets[i] : offsets[i + 1]].tolist()
        assert mine == (grams_of(value) or [])  # the very arrays the database computes
        assert len(mine) == (len(value) + 1 if value else 0)  # a gram per character, an end


@given(TEXT, st.data())
def test_a_value_has_the_grams_of_every_like_pattern_it_matches(
    value: str, data: st.DataObject
) -> None:
    cuts = sorted(data.draw(st.lists(st.integers(0, len(value)), min_size=2, max_size=2)))
    start, stop = cuts
    middle = "%" if data.draw(st.booleans()) else "_" * (stop - start)
    pattern = value[:start] + middle + value[stop:]
    assert set(like_grams(pattern)) <= set(grams_of(value) or [])
    assert set(like_grams(value)) == set(grams_of(value) or [])  # no wildcard: the value itself


def test_latin_letters_match_in_either_case_and_width_and_nothing_else_is_folded() -> None:
    assert grams_of("北京KTV") == grams_of("北京ktv")
    assert set(query_grams("Tv")) <= set(grams_of("KTV有限公司") or [])
    assert grams_of("ＫＴＶ") == grams_of("ｋｔｖ") == grams_of("KTV")  # ILIKE rechecks width
    assert grams_of("北京ＫＴＶ") != grams_of("北京KTW")
    assert grams_of(None) is None and grams_of("") == []


@given(TEXT, TEXT)
def test_the_grams_of_a_whole_value_single_out_values_ending_alike(a: str, b: str) -> None:
    if a and b and a[-1].lower() != b[-1].lower():
        assert not set(grams_of(a) or []) <= set(grams_of(a + b) or [])  # a longer name
        assert not set(grams_of(a) or []) <= set(grams_of(b) or [])


def test_different_pairs_give_different_grams_within_the_basic_plane() -> None:
    pairs = ["银行", "行银", "医院", "院医", "ab", "ba", "北京"]
    grams = [query_grams(p)[0] for p in pairs]
    assert len(set(grams)) == len(pairs) and all(-(2**31) <= g < 2**31 for g in grams)
