"""The audit log as a CSV file for Excel: UTF-8 with a BOM, formula-safe, and its SM3 digest."""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterable
from datetime import tzinfo
from typing import IO, Any

from importers.formulas import escape_csv_value
from layers.audit.models import AuditRecord
from layers.audit.reading import source_of

# Chinese titles for the auditor's spreadsheet, in the order of ``_cells``.
HEADER = ("编号", "时间", "用户", "用户编号", "角色", "来源地址", "终端", "操作",
          "对象类型", "对象编号", "结果", "详情", "变更前", "变更后", "密钥版本",
          "前一条链摘要", "链摘要")  # fmt: skip
BOM = "\ufeff"  # Excel reads a CSV as UTF-8 only with it


class _Digesting:
    """A text sink for ``csv.writer`` that writes UTF-8 to ``out`` and digests it with SM3."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.digest = hashlib.new("sm3")

    def write(self, text: str) -> int:
        data = text.encode()
        self.digest.update(data)
        self.out.write(data)
        return len(text)


def _json(value: dict[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _cells(record: AuditRecord, zone: tzinfo) -> list[Any]:
    cells = [
        record.id, record.at.astimezone(zone).isoformat(), record.actor_name, record.actor_id,
        record.actor_role, source_of(record.client), record.client, record.action,
        record.target_type, record.target_id, record.result, record.detail,
        _json(record.before), _json(record.after), record.key_version, record.prev_hash,
        record.chain_hash,
    ]  # fmt: skip
    return [escape_csv_value(cell) for cell in cells]


def write_audit_csv(
    records: Iterable[AuditRecord], out: IO[bytes], zone: tzinfo
) -> tuple[int, str]:
    """Write ``records`` to ``out`` as CSV (times in ``zone``); return the rows and the SM3."""
    sink = _Digesting(out)
    sink.write(BOM)
    writer = csv.writer(sink, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\r\n")
    writer.writerow(HEADER)
    rows = 0
    for record in records:
        writer.writerow(_cells(record, zone))
        rows += 1
    return rows, sink.digest.hexdigest()
