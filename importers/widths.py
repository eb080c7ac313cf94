"""How wide a delimited text file may be, checked before any parser sees it.

A 9.9 MB CSV of 1,000,000 columns held a core for six minutes and took 3.6 GB in the
column-oriented readers (a column costs them kilobytes whatever its length), then
failed on a half-read header. A layer has a few dozen attributes: a header, a column
count or a line far past any real table is refused at once, saying which.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from importers.base import format_of
from layers.errors import InvalidInput

MAX_COLUMNS = 1_000
MAX_HEADER_BYTES = 64 * 1024
# A row with a 10,000-vertex WKT polygon (the vertex limit) takes ~0.4 MB.
MAX_ROW_BYTES = 4 * 1024 * 1024
DELIMITERS = (b",", b"\t", b";", b"|")  # what the reader's sniffer chooses from
_BLOCK_BYTES = 8 * 1024 * 1024
_NEWLINE = ord("\n")


def check_header(path: Path, head: bytes) -> None:
    """Raise ``InvalidInput`` if the first line of ``head`` is too long or has too many fields."""
    end = head.find(b"\n")
    if (end < 0 and len(head) > MAX_HEADER_BYTES) or end > MAX_HEADER_BYTES:
        raise InvalidInput(
            f"{path.name}: the header line is longer than {MAX_HEADER_BYTES:,} bytes; "
            f"a table may have at most {MAX_COLUMNS:,} columns"
        )
    header = head if end < 0 else head[:end]
    columns = max(header.count(delimiter) for delimiter in DELIMITERS) + 1
    if columns > MAX_COLUMNS:
        raise InvalidInput(
            f"{path.name}: the header has {columns:,} columns; at most {MAX_COLUMNS:,} are read"
        )


def check_lines(path: Path) -> None:
    """Raise ``InvalidInput`` naming the first line longer than ``MAX_ROW_BYTES``."""
    since_newline = 0  # bytes of the line the last block ended in
    lines_before = 0
    with path.open("rb") as handle:
        while block := handle.read(_BLOCK_BYTES):
            ends = np.flatnonzero(np.frombuffer(block, np.uint8) == _NEWLINE)
            # lengths of the lines ending in this block, the first with its earlier part
            lengths = np.diff(ends, prepend=-1 - since_newline) - 1
            if ends.size:
                since_newline = len(block) - 1 - int(ends[-1])
            else:
                since_newline += len(block)
            long = np.flatnonzero(lengths > MAX_ROW_BYTES)
            if long.size or since_newline > MAX_ROW_BYTES:
                line = lines_before + (int(long[0]) if long.size else ends.size) + 1
                raise InvalidInput(
                    f"{path.name}: line {line:,} is longer than {MAX_ROW_BYTES:,} bytes; "
                    "is it a delimited table with one row a line?"
                )
            lines_before += ends.size


def check_width(path: Path) -> None:
    """Refuse a delimited text file whose header, column count or lines are too large."""
    with path.open("rb") as handle:
        check_header(path, handle.read(MAX_HEADER_BYTES + 1))
    check_lines(path)


def precheck(path: Path) -> None:
    """Refuse at once what no import of ``path`` could read: an unknown type, a vast table."""
    if format_of(path) in ("csv", "gtfs"):
        check_width(path)
