"""The manifest beside a dump: what it holds, its SM3 digests, and their verification.

The digests catch a damaged or edited backup; they do not prove who made it, since anyone
can recompute SM3. That is the job of a signature over the same canonical bytes: a
``ManifestSigner`` (SM2 once the bureau's keys are configured) signs at backup time and
verifies at restore time; until one is configured, manifests carry ``"signature": null``.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, ValidationError

from layers.errors import WarroomError

FORMAT = "warroom-backup"
FORMAT_VERSION = 1
MANIFEST_FILE = "manifest.json"
DUMP_FILE = "warroom.dump"
# Fields that seal the rest of the manifest, so they are not part of what is sealed.
_SEAL = ("signature", "manifest_sm3")
_CHUNK = 1 << 20


class BackupError(WarroomError):
    """A backup cannot be taken or restored; the message says why and what to do."""


class ManifestSigner(Protocol):
    """Signs a manifest's canonical bytes and checks such a signature (SM2 when keys exist)."""

    def sign(self, content: bytes) -> str:
        """Return the signature of ``content``."""
        ...

    def verify(self, content: bytes, signature: str) -> bool:
        """Return whether ``signature`` is this key's signature of ``content``."""
        ...


class Manifest(BaseModel):
    """What a backup holds: its source, schema revision, exact row counts and dump digest."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: str = FORMAT
    format_version: int = FORMAT_VERSION
    created_at: str
    database: str
    server_version: str
    schema_revision: str
    encoding: str
    collate: str
    ctype: str
    dump_bytes: int
    dump_sm3: str
    row_counts: dict[str, int]
    signature: str | None = None
    manifest_sm3: str = ""


def sm3_file(path: Path) -> str:
    """Return the SM3 digest of a file's bytes, in hex."""
    digest = hashlib.new("sm3")
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def canonical(document: dict[str, Any]) -> bytes:
    """Return the bytes the digest and signature cover: the document without its seal."""
    content = {key: value for key, value in document.items() if key not in _SEAL}
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def manifest_digest(document: dict[str, Any]) -> str:
    """Return the SM3 digest of a manifest document's content, in hex."""
    return hashlib.new("sm3", canonical(document)).hexdigest()


def write_manifest(
    directory: Path, manifest: Manifest, signer: ManifestSigner | None = None
) -> Manifest:
    """Seal ``manifest`` (digest, signature if a signer is given), write it; return it sealed."""
    document = manifest.model_dump(exclude=set(_SEAL))
    signature = signer.sign(canonical(document)) if signer else None
    sealed = manifest.model_copy(
        update={"signature": signature, "manifest_sm3": manifest_digest(document)}
    )
    partial = directory / f".{MANIFEST_FILE}.part"
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as stream:
        stream.write(sealed.model_dump_json(indent=2) + "\n")
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(partial, directory / MANIFEST_FILE)  # a manifest only ever beside a whole dump
    return sealed


def _document(directory: Path) -> dict[str, Any]:
    path = directory / MANIFEST_FILE
    if not path.is_file():
        raise BackupError(f"{directory} holds no {MANIFEST_FILE}: not a warroom backup")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BackupError(f"{path} is not valid JSON ({exc}): the manifest is damaged") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise BackupError(f"{path} is not a warroom backup manifest")
    if document.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"{path} has format version {document.get('format_version')!r}; this warroom "
            f"reads version {FORMAT_VERSION}: restore it with the warroom that made it"
        )
    return document


def _check_signature(
    document: dict[str, Any], signature: str | None, verifier: ManifestSigner | None
) -> None:
    if signature is None and verifier is None:
        return
    if signature is None:
        raise BackupError("the manifest is not signed, but a signing key is configured: refused")
    if verifier is None:
        raise BackupError("the manifest is signed, but no key to verify it is configured: refused")
    if not verifier.verify(canonical(document), signature):
        raise BackupError("the manifest's signature does not verify: the backup was altered")


def read_manifest(directory: Path, verifier: ManifestSigner | None = None) -> Manifest:
    """Return the manifest of the backup in ``directory`` once its digests (and signature) hold.

    Raises ``BackupError`` when the manifest or the dump does not match its digest.
    """
    document = _document(directory)
    if document.get("manifest_sm3") != manifest_digest(document):
        raise BackupError(
            f"the manifest's SM3 digest does not match its content: {directory / MANIFEST_FILE} "
            "was altered or damaged; refused"
        )
    try:
        manifest = Manifest.model_validate(document)
    except ValidationError as exc:
        raise BackupError(f"the manifest is malformed: {exc.errors()[0]['msg']}") from None
    _check_signature(document, manifest.signature, verifier)
    dump = directory / DUMP_FILE
    if not dump.is_file():
        raise BackupError(f"{dump} is missing: the backup is incomplete")
    if dump.stat().st_size != manifest.dump_bytes or sm3_file(dump) != manifest.dump_sm3:
        raise BackupError(
            f"the SM3 digest of {dump} does not match the manifest: the dump was altered or "
            "damaged; refused"
        )
    return manifest
