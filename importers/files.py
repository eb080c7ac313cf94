"""Helpers for reading uploaded files safely: text encodings and zip archives."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import IO

from layers.errors import InvalidInput

# Decoders tried in order; GB18030 is a superset of GBK and GB2312.
_ENCODINGS = ("utf-8-sig", "gb18030")
MAX_UNZIPPED_BYTES = 2 * 1024**3
MAX_RATIO = 200


def detect_encoding(data: bytes) -> str:
    """Return ``utf-8`` if ``data`` decodes as UTF-8, else ``gb18030`` if it decodes as that."""
    for encoding in _ENCODINGS:
        try:
            data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return "utf-8" if encoding == "utf-8-sig" else encoding
    raise InvalidInput("text is neither UTF-8 nor GBK/GB18030; pass --encoding")


def safe_extract(archive: Path, dest: Path, *, max_bytes: int = MAX_UNZIPPED_BYTES) -> list[Path]:
    """Extract a zip into ``dest``, refusing zip bombs and paths that escape ``dest``."""
    try:
        zf = zipfile.ZipFile(archive)
    except zipfile.BadZipFile as exc:
        raise InvalidInput(f"{archive.name} is not a valid zip archive") from exc
    with zf:
        members = [m for m in zf.infolist() if not m.is_dir()]
        total = sum(m.file_size for m in members)
        packed = sum(m.compress_size for m in members) or 1
        if total > max_bytes or total / packed > MAX_RATIO:
            raise InvalidInput(
                f"{archive.name} unpacks to {total:,} bytes from {packed:,} "
                f"(limit {max_bytes:,} bytes, ratio {MAX_RATIO}); refusing a possible zip bomb"
            )
        root = dest.resolve()
        paths = []
        for member in members:
            target = (dest / member.filename).resolve()
            if not target.is_relative_to(root):
                raise InvalidInput(f"{archive.name} holds a path outside the archive")
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(member) as src, target.open("wb") as out:
                _copy_limited(src, out, member.file_size)
            paths.append(target)
    return paths


def _copy_limited(src: IO[bytes], out: IO[bytes], declared: int) -> None:
    # A member may lie about its size in the directory; stop at what it declared.
    copied = 0
    while chunk := src.read(1 << 20):
        copied += len(chunk)
        if copied > declared:
            raise InvalidInput("a zip member is larger than it declares; refusing it")
        out.write(chunk)
