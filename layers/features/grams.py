"""Character bigrams of searched text: the keys of a layer's text-search indexes.

Chinese names are searched by two characters as often as by more ("银行", "医院",
"朝阳"), anywhere in the name. pg_trgm indexes three-character grams, so it cannot
find a two-character substring in the middle of a name, and building its index costs
~5 s per million names (PostgreSQL extracts the trigrams character by character
through the C library's locale). Here each searched text column ``c`` has a column
``c_grams`` (``int4[]``) holding its bigrams under a plain GIN index that builds in
~1.9 s per million names:

- a gram packs two characters' code points (each to 16 bits) into one signed int32;
- each value starts with the gram of (start, first character), so one character can
  be looked up at the start of a value, and ends with the gram of (last character,
  end), so a whole value (an exact name) is looked up by rare grams;
- Latin letters count as ASCII lower case, full-width ones too ("KTV", "ＫＴＶ" and "ｋｔｖ"
  share their grams): ILIKE's case-insensitivity for the letters in Chinese names,
  and IME-typed full-width letters find the candidates ILIKE then accepts or not; every
  other character stands as written.

Two characters that pack alike only make a false candidate: a search always rechecks
its candidates with ILIKE, so the grams decide how fast a search is, never what it finds.

The database keeps the grams: ``text_grams(text)`` (migration 0011) computes the same
arrays as ``grams_of`` — one gram per character in order, then the end gram — and a
row trigger sets ``c_grams`` on every insert and every update of ``c``, whoever writes
the row (the ORM, psql, an ETL tool). Only the loaders write them themselves, with
``grams_of_values``, into tables they alone may write meanwhile: an import's new table
before its swap (no trigger yet), and with the trigger switched off inside their
transaction, an import into the locked layer and the demo city's COPY.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

START = END = 0  # the code point standing for the start or end of a value (text holds no NUL)
SUFFIX = "_grams"
Grams = npt.NDArray[np.int32]


def column_of(text: str) -> str:
    """Return the name of the column keeping the grams of text column ``text``."""
    return f"{text}{SUFFIX}"


def trigger_of(table: str) -> str:
    """Return the name of the row trigger keeping the grams of feature table ``table``."""
    return f"{table}{SUFFIX}"


def text_of(column: str) -> str:
    """Return the text column whose grams ``column`` keeps (any other column: itself)."""
    return column.removesuffix(SUFFIX)


def _fold(points: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint32]:
    """Return Latin letters as ASCII lower case, full-width ones (Ｋ, ｋ) included."""
    for first, last in (("A", "Z"), ("Ａ", "Ｚ"), ("ａ", "ｚ")):
        letters = (points >= ord(first)) & (points <= ord(last))
        points[letters] = points[letters] - ord(first) + ord("a")
    return points


def _pack(first: npt.NDArray[np.uint32], second: npt.NDArray[np.uint32]) -> Grams:
    packed = ((first & 0xFFFF) << 16) | (second & 0xFFFF)
    return packed.astype(np.uint32).view(np.int32)


def grams_of_values(values: Sequence[str | None] | pa.Array) -> tuple[npt.NDArray[np.int64], Grams]:
    """Return the grams of many values at once: ``(offsets, grams)``.

    Value ``i`` has ``grams[offsets[i]:offsets[i + 1]]``: one gram per character, in
    their order, then the gram of its end (a missing or empty value has none); repeated
    grams stay. ``values`` may be an Arrow string array (no per-value Python then).
    """
    text = pc.fill_null(
        values if isinstance(values, pa.Array) else pa.array(values, pa.string()), ""
    )
    lengths = pc.utf8_length(text).to_numpy(zero_copy_only=False).astype(np.int64)
    starts = np.zeros(len(text) + 1, dtype=np.int64)
    np.cumsum(lengths, out=starts[1:])
    whole = pc.binary_join(pa.ListArray.from_arrays(pa.array([0, len(text)], pa.int32()), text), "")
    points = _fold(np.frombuffer(whole[0].as_py().encode("utf-32-le"), dtype="<u4").copy())
    filled = lengths > 0
    before = np.empty_like(points)
    before[1:] = points[:-1]
    before[starts[:-1][filled]] = START  # each value's first character follows its start
    ended = np.zeros(len(text) + 1, dtype=np.int64)  # values before ``i`` that have an end
    np.cumsum(filled, out=ended[1:])
    offsets = starts + ended
    grams = np.empty(len(points) + int(ended[-1]), dtype=np.int32)
    grams[np.arange(len(points)) + np.repeat(ended[:-1], lengths)] = _pack(before, points)
    last = points[starts[1:][filled] - 1]
    grams[offsets[1:][filled] - 1] = _pack(last, np.full_like(last, END))
    return offsets, grams


def grams_of(value: str | None) -> list[int] | None:
    """Return the grams a ``c_grams`` column stores for the text ``value`` (None for None).

    A value equal to ``value`` has all of them: they look up exact names.
    """
    if value is None:
        return None
    return grams_of_values([value])[1].tolist()


def query_grams(q: str) -> list[int]:
    """Return the grams every value containing ``q`` has (``q`` of two characters or more).

    For one character, the gram of a value starting with it.
    """
    grams = grams_of_values([q])[1]
    if len(q) == 1:
        return grams[:1].tolist()
    return sorted(set(grams[1:-1].tolist()))  # not its start or end: ``q`` may lie anywhere


def like_grams(pattern: str, escape: str = "\\") -> list[int]:
    """Return the grams every value matching the LIKE ``pattern`` has (``%``, ``_``).

    The grams of each literal run between wildcards, plus the start (end) gram when the
    pattern starts (ends) with a literal; none for a pattern of wildcards only.
    """
    runs, run, escaped = [], "", False
    for char in pattern:
        if escaped or char not in (escape, "%", "_"):
            run, escaped = run + char, False
        elif char == escape:
            escaped = True
        else:
            runs.append(run)
            run = ""
    runs.append(run)
    grams: set[int] = set()
    for i, literal in enumerate(runs):
        if literal:
            inner = grams_of_values([literal])[1]
            grams.update(inner[1:-1].tolist())
            grams.update(inner[:1].tolist() if i == 0 else [])
            grams.update(inner[-1:].tolist() if i == len(runs) - 1 else [])
    return sorted(grams)
