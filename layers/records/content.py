"""What an uploaded file is, told from its bytes: JPEG, PNG, WebP or PDF, or refused.

A file's name and declared type are claims; its first bytes (magic numbers) say what
it is. Anything else is refused (415); a name or type claiming something other than
the content is refused (422), so a download never carries a name a desktop would
open with another program. Images are decoded by Pillow with only the decoder of
their type, so a truncated or forged image is refused too.
"""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass
from pathlib import PurePosixPath

from PIL import Image

from layers.errors import InvalidInput, UnsupportedMediaType

__all__ = ["FILE_KINDS", "Content", "FileKind", "check_claims", "inspect_content", "safe_name"]


@dataclass(frozen=True)
class FileKind:
    """A type of file we keep: media type, magic bytes, file name endings, Pillow format."""

    media_type: str
    title: str
    extensions: tuple[str, ...]
    pillow_format: str | None = None
    aliases: tuple[str, ...] = ()

    def matches(self, data: bytes) -> bool:
        """Return whether ``data`` starts as a file of this kind."""
        if self.media_type == "image/webp":
            return data[:4] == b"RIFF" and data[8:12] == b"WEBP"
        return data.startswith(_MAGIC[self.media_type])


_MAGIC = {
    "image/jpeg": b"\xff\xd8\xff",
    "image/png": b"\x89PNG\r\n\x1a\n",
    "application/pdf": b"%PDF-",
}
FILE_KINDS = (
    FileKind("image/jpeg", "JPEG image", (".jpg", ".jpeg", ".jpe", ".jfif"), "JPEG",
             ("image/jpg", "image/pjpeg")),
    FileKind("image/png", "PNG image", (".png",), "PNG"),
    FileKind("image/webp", "WebP image", (".webp",), "WEBP"),
    FileKind("application/pdf", "PDF document", (".pdf",), None, ("application/x-pdf",)),
)  # fmt: skip
# Named in refusals, so a user learns what they sent.
_OTHERS = (
    (b"MZ", "a Windows executable"), (b"\x7fELF", "a Linux executable"),
    (b"PK\x03\x04", "a ZIP archive or Office document"), (b"GIF8", "a GIF image"),
    (b"<", "HTML, XML or SVG text"), (b"\x1f\x8b", "a gzip archive"), (b"{", "JSON text"),
)  # fmt: skip
# A client that does not know the type says one of these: no claim.
_NO_CLAIM = frozenset({"", "application/octet-stream", "binary/octet-stream"})
MAX_NAME_CHARS = 200
_PDF_TAIL_BYTES = 1024
# Orientations that turn the picture a quarter: width and height swap on display.
_QUARTER_TURNS = frozenset({5, 6, 7, 8})
_EXIF_ORIENTATION = 0x0112


@dataclass(frozen=True)
class Content:
    """What a checked file is: its kind, a safe name, and an image's size as displayed."""

    kind: FileKind
    name: str
    width: int | None = None
    height: int | None = None


def _what_else(data: bytes) -> str:
    start = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    for magic, title in _OTHERS:
        if start.startswith(magic):
            return title
    return f"unknown content (first bytes {data[:8].hex(' ')})"


def _sniff(data: bytes) -> FileKind:
    for kind in FILE_KINDS:
        if kind.matches(data):
            return kind
    allowed = ", ".join(k.title for k in FILE_KINDS)
    raise UnsupportedMediaType(f"the file is {_what_else(data)}; only {allowed} are taken")


def safe_name(name: str | None, kind: FileKind) -> str:
    """Return ``name`` without folders or control characters, at most 200 characters.

    A name without an ending gets the kind's first one; an empty name is "attachment".
    """
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    # Cc: control characters; Cf: format characters such as U+202E, which shows
    # "photo\u202egpj.exe" as "photoexe.jpg"; Cs: lone surrogates PostgreSQL cannot store.
    clean = "".join(c for c in base if unicodedata.category(c) not in {"Cc", "Cf", "Cs"}).strip()
    path = PurePosixPath(clean.strip(".") or "attachment")
    suffix = path.suffix if path.suffix.lower() in kind.extensions else ""
    stem = path.stem if suffix else path.name
    ending = suffix or kind.extensions[0]
    return stem[: MAX_NAME_CHARS - len(ending)] + ending


def check_claims(kind: FileKind, name: str | None, declared: str | None) -> None:
    """Raise ``InvalidInput`` if the file's name or declared type claims another kind."""
    suffix = PurePosixPath((name or "").replace("\\", "/")).suffix.lower()
    if suffix and suffix not in kind.extensions:
        raise InvalidInput(f"the file is named {suffix!r} but its content is a {kind.title}; "
                           f"name it {' or '.join(kind.extensions[:2])}")  # fmt: skip
    claimed = (declared or "").split(";")[0].strip().lower()
    if claimed not in _NO_CLAIM and claimed not in {kind.media_type, *kind.aliases}:
        raise InvalidInput(f"the file is sent as {claimed!r} but its content is a {kind.title} "
                           f"({kind.media_type})")  # fmt: skip


def _decoded_size(data: bytes, kind: FileKind, decoder: str, max_pixels: int) -> tuple[int, int]:
    """Decode an image with only its kind's decoder; return its displayed width and height."""
    try:
        with Image.open(io.BytesIO(data), formats=[decoder]) as image:
            width, height = image.size
            if width * height > max_pixels:
                raise InvalidInput(
                    f"the image is {width}×{height} pixels, more than the "
                    f"{max_pixels:,} taken (WARROOM_LIMITS_ATTACHMENT_PIXELS)"
                )
            # JPEG decodes at an eighth of its size: every byte is read, little memory used
            image.draft("RGB", (max(1, width // 8), max(1, height // 8)))
            image.load()
            orientation = image.getexif().get(_EXIF_ORIENTATION)
    except InvalidInput:
        raise
    except Image.DecompressionBombError:
        raise InvalidInput(f"the image has more than the {max_pixels:,} pixels taken") from None
    except Exception as exc:  # Pillow's decoders raise many types; any of them is bad input
        raise InvalidInput(f"the file starts as a {kind.title} but cannot be decoded: "
                           f"{str(exc)[:200] or type(exc).__name__}") from None  # fmt: skip
    return (height, width) if orientation in _QUARTER_TURNS else (width, height)


def inspect_content(
    data: bytes, name: str | None, declared: str | None, *, max_pixels: int
) -> Content:
    """Return what ``data`` is, or raise: 415 for a type we do not keep, 422 for a bad file."""
    if not data:
        raise InvalidInput("the file is empty")
    kind = _sniff(data)
    check_claims(kind, name, declared)
    if kind.pillow_format is None:
        if b"%%EOF" not in data[-_PDF_TAIL_BYTES:]:
            raise InvalidInput("the PDF document is cut short: it does not end with %%EOF")
        return Content(kind, safe_name(name, kind))
    width, height = _decoded_size(data, kind, kind.pillow_format, max_pixels)
    return Content(kind, safe_name(name, kind), width, height)
