"""What a training resource is, told from its bytes: a PDF document, or an MP4 or WebM video.

Documents are checked by the records' content check (``layers.records.content``: magic
bytes, a PDF ends with ``%%EOF``, name and declared type must agree). Videos are told by
their container: an MP4 starts with an ``ftyp`` box and its top-level boxes must tile the
file exactly (a cut or padded upload is refused) and hold ``moov`` and ``mdat``; a WebM
starts with the EBML magic and names its doc type ``webm``.
"""

from __future__ import annotations

import struct

from layers.errors import InvalidInput, UnsupportedMediaType
from layers.records.content import Content, FileKind, check_claims, inspect_content, safe_name

__all__ = ["MP4", "VIDEO_KINDS", "WEBM", "inspect_resource", "kind_of"]

MP4 = FileKind("video/mp4", "MP4 video", (".mp4", ".m4v"), aliases=("video/x-m4v",))
WEBM = FileKind("video/webm", "WebM video", (".webm",))
VIDEO_KINDS = (MP4, WEBM)
_PDF = b"%PDF-"
_EBML = b"\x1a\x45\xdf\xa3"
_WEBM_DOCTYPE = b"\x42\x82\x84webm"  # EBML DocType element, 4 bytes: "webm"
_HEADER_BYTES = 8
_REQUIRED_BOXES = (b"moov", b"mdat")


def _mp4_boxes(data: bytes) -> list[bytes]:
    """Return the types of the top-level boxes; raise if they do not tile the file exactly."""
    found: list[bytes] = []
    at = 0
    while at < len(data):
        if len(data) - at < _HEADER_BYTES:
            raise InvalidInput(f"the MP4 video is cut short: {len(data) - at} stray bytes at "
                               f"offset {at:,}")  # fmt: skip
        size, box = struct.unpack(">I4s", data[at : at + _HEADER_BYTES])
        if size == 1:  # a 64-bit size follows the type
            if len(data) - at < 16:
                raise InvalidInput(f"the MP4 video is cut short at offset {at:,}")
            size = struct.unpack(">Q", data[at + 8 : at + 16])[0]
        elif size == 0:  # the box runs to the end of the file
            size = len(data) - at
        if size < _HEADER_BYTES or at + size > len(data):
            left = len(data) - at
            raise InvalidInput(f"the MP4 video is cut short or damaged: box {box!r} at offset "
                               f"{at:,} claims {size:,} bytes, {left:,} are left")  # fmt: skip
        found.append(box)
        at += size
    return found


def _check_video(kind: FileKind, data: bytes) -> None:
    if kind is WEBM:
        if _WEBM_DOCTYPE not in data[:64]:
            raise InvalidInput("the file starts as EBML (Matroska) but is not a WebM video")
        return
    boxes = _mp4_boxes(data)
    missing = [b.decode() for b in _REQUIRED_BOXES if b not in boxes]
    if missing:
        raise InvalidInput(f"the MP4 video has no {' or '.join(missing)} box: it cannot play")


def kind_of(data: bytes) -> str:
    """Return "video" or "document" for bytes a resource may hold; raise 415 for any other."""
    if data[4:8] == b"ftyp" or data.startswith(_EBML):
        return "video"
    if data.startswith(_PDF):
        return "document"
    raise UnsupportedMediaType(f"the file is neither a PDF document nor an MP4 or WebM video "
                               f"(first bytes {data[:8].hex(' ')})")  # fmt: skip


def inspect_resource(data: bytes, name: str | None, declared: str | None) -> Content:
    """Return what a resource's bytes are: 415 for a type we do not keep, 422 for a bad file."""
    if not data:
        raise InvalidInput("the file is empty")
    if kind_of(data) == "document":
        return inspect_content(data, name, declared, max_pixels=1)
    kind = MP4 if data[4:8] == b"ftyp" else WEBM
    check_claims(kind, name, declared)
    _check_video(kind, data)
    return Content(kind, safe_name(name, kind))
