"""Check that bytes are a PNG image by their content: signature, chunk structure and CRCs."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from layers.errors import InvalidInput

SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_SIDE_PX = 16_384  # larger images are no screenshot, and costly for the browser that shows one
_CHUNK_HEAD = struct.Struct(">I4s")


@dataclass(frozen=True)
class PngSize:
    """The dimensions a PNG's header declares."""

    width_px: int
    height_px: int


def check_png(data: bytes) -> PngSize:
    """Return the size of the PNG in ``data``, or raise ``InvalidInput`` if it is none.

    Every chunk must be whole with a matching CRC, the first must be IHDR and the last
    IEND with nothing after it, and there must be image data (IDAT).
    """
    if not data.startswith(SIGNATURE):
        raise InvalidInput("the screenshot is not a PNG image (its first bytes are not PNG's)")
    offset, kinds = len(SIGNATURE), list[bytes]()
    while offset < len(data):
        if offset + _CHUNK_HEAD.size > len(data):
            raise InvalidInput("the PNG screenshot is cut short")
        length, kind = _CHUNK_HEAD.unpack_from(data, offset)
        end = offset + _CHUNK_HEAD.size + length + 4
        if end > len(data):
            raise InvalidInput("the PNG screenshot is cut short")
        body = data[offset + 4 : end - 4]  # the chunk type and its data, which the CRC covers
        if zlib.crc32(body) != struct.unpack_from(">I", data, end - 4)[0]:
            raise InvalidInput(f"the PNG screenshot is damaged: chunk {len(kinds) + 1} fails a CRC")
        kinds.append(kind)
        offset = end
        if kind == b"IEND":
            break
    if offset != len(data) or not kinds or kinds[-1] != b"IEND":
        raise InvalidInput("the PNG screenshot does not end with its IEND chunk")
    if kinds[0] != b"IHDR" or b"IDAT" not in kinds:
        raise InvalidInput("the PNG screenshot has no header or no image data")
    width, height = struct.unpack_from(">II", data, len(SIGNATURE) + _CHUNK_HEAD.size)
    if not (0 < width <= MAX_SIDE_PX and 0 < height <= MAX_SIDE_PX):
        raise InvalidInput(f"the screenshot is {width} x {height} px; at most {MAX_SIDE_PX} a side")
    return PngSize(width, height)
