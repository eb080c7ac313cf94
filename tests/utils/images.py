"""Make small PNG images in memory (no imaging library) for upload tests."""

from __future__ import annotations

import struct
import zlib


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bytes(width: int = 4, height: int = 3, *, noise: bytes = b"") -> bytes:
    """Return a valid grey PNG of ``width`` x ``height``; ``noise`` makes its pixels (and size)."""
    row = bytes(width)
    rows = b"".join(b"\x00" + (noise[i * width : (i + 1) * width] or row).ljust(width, b"\x00")
                    for i in range(height))  # fmt: skip
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(rows))
            + _chunk(b"IEND", b""))  # fmt: skip
