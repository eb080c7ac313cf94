"""What an import did: counts, reasons, warnings; printed by the CLI, stored by the API."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from layers.errors import InvalidInput

Mode = Literal["insert", "upsert", "replace"]
MODES: tuple[Mode, ...] = ("insert", "upsert", "replace")


def hide_folder(value: Any, folder: Path) -> Any:
    """Return ``value`` (text, or JSON-ready values holding text) with ``folder/`` left out."""
    if isinstance(value, str):
        return value.replace(f"{folder}{os.sep}", "")
    if isinstance(value, dict):
        return {key: hide_folder(item, folder) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [hide_folder(item, folder) for item in value]
    return value


def parse_mode(value: str) -> Mode:
    """Return ``value`` as an import mode or raise ``InvalidInput`` naming the modes."""
    for mode in MODES:
        if mode == value:
            return mode
    raise InvalidInput(f"mode must be one of {', '.join(MODES)}, not {value!r}")


@dataclass(frozen=True)
class ImportRequest:
    """One import as asked for on the command line or over the API."""

    path: Path
    layer: str
    crs: str | None = None
    encoding: str | None = None
    mapping: dict[str, str] = field(default_factory=dict)
    id_field: str | None = None
    mode: Mode = "insert"
    dry_run: bool = False
    strict: bool = False
    table: str | None = None
    format: str | None = None
    reject_dir: Path | None = None
    source_name: str | None = None


@dataclass
class ImportReport:
    """The outcome of one import."""

    layer: str
    source: str
    format: str
    crs: str
    encoding: str | None
    rows: int
    mode: str
    dry_run: bool
    strict: bool
    mapping: dict[str, str]
    status: str = "loaded"
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    rejected: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    bbox: tuple[float, float, float, float] | None = None
    reject_file: str | None = None
    seconds: float = 0.0

    @property
    def loaded(self) -> int:
        """Return how many rows were written (inserted or updated)."""
        return self.inserted + self.updated

    def count_reasons(self, reasons: list[str], top: int = 20) -> None:
        """Keep the most frequent reasons (the part before any coordinates)."""
        counts = Counter(r.split(" (")[0] for r in reasons)
        self.reasons = dict(counts.most_common(top))
        self.rejected = len(reasons)

    def as_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready values."""
        return asdict(self) | {"loaded": self.loaded}

    def shown(self, folder: Path) -> dict[str, Any]:
        """Return the report for users of the API: file names, never the server's ``folder``."""
        return dict(hide_folder(self.as_dict(), folder))

    def summary(self) -> str:
        """Return a few human lines about the import."""
        good = self.rows - self.rejected
        outcome = {"loaded": f"loaded {self.loaded}", "dry-run": f"would load {good}",
                   "refused": f"loaded nothing (--strict; {good} good)"}[self.status]  # fmt: skip
        lines = [f"{self.source} -> {self.layer} ({self.format}, {self.crs}, mode {self.mode}): "
                 f"{self.rows} rows, {outcome}, rejected {self.rejected}"]  # fmt: skip
        if self.status == "loaded":
            lines.append(f"  inserted {self.inserted}, updated {self.updated}, "
                         f"deleted {self.deleted} in {self.seconds:.1f} s")  # fmt: skip
        lines += [f"  note: {n}" for n in self.notes]
        lines += [f"  warning: {w}" for w in self.warnings]
        lines += [f"  {n} x {reason}" for reason, n in self.reasons.items()]
        if self.reject_file:
            lines.append(f"  rejected rows with reasons: {self.reject_file}")
        return "\n".join(lines)
