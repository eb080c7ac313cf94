"""Delimited text (CSV/TSV) and Excel sheets: attribute rows whose coordinates are columns."""

from __future__ import annotations

import csv
import io

import pandas as pd
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from importers.base import Importer, SourceTable, text_frame
from importers.files import detect_encoding
from layers.errors import InvalidInput

_SNIFF_BYTES = 1 << 20


def read_delimited(importer: Importer, fmt: str) -> SourceTable:
    """Read a delimited text file as text columns, detecting encoding and delimiter."""
    path = importer.path
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    if not head.strip():
        raise InvalidInput(f"{path.name} is empty")
    # A cut inside a multi-byte character must not count against UTF-8.
    encoding = importer.options.encoding or detect_encoding(head[: head.rfind(b"\n") + 1] or head)
    sample = head.decode(encoding, errors="ignore")
    try:
        delimiter = csv.Sniffer().sniff(sample[:20_000], delimiters=",\t;|").delimiter
    except csv.Error:
        delimiter = ","
    try:
        frame = pd.read_csv(
            path, dtype=str, keep_default_na=False, encoding=encoding, sep=delimiter,
            encoding_errors="strict", skipinitialspace=True,
        )  # fmt: skip
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read {path.name} as {encoding} text: {exc}") from exc
    frame.columns = [str(c).strip().lstrip("\ufeff") for c in frame.columns]
    return SourceTable(frame.reset_index(drop=True), None, None, fmt, encoding)


class CSVImporter(Importer):
    """CSV or TSV with a header row."""

    name = "csv"

    def read(self) -> SourceTable:
        """Return the rows of the file as text."""
        return read_delimited(self, self.name)


class XLSXImporter(Importer):
    """An Excel workbook: the first sheet, or the one named by ``--table``."""

    name = "xlsx"

    def read(self) -> SourceTable:
        """Return the rows of the sheet as text; the first row is the header."""
        try:
            book = load_workbook(self.path, read_only=True, data_only=True)
        except (InvalidFileException, OSError, KeyError, ValueError) as exc:
            raise InvalidInput(f"{self.path.name} is not a readable .xlsx workbook") from exc
        sheet_name = self.options.table or book.sheetnames[0]
        if sheet_name not in book.sheetnames:
            raise InvalidInput(f"no sheet {sheet_name!r}; sheets: {', '.join(book.sheetnames)}")
        rows = list(book[sheet_name].iter_rows(values_only=True))
        book.close()
        if not rows:
            raise InvalidInput(f"sheet {sheet_name!r} of {self.path.name} is empty")
        header = [str(h).strip() if h is not None else f"column_{i}" for i, h in enumerate(rows[0])]
        frame = pd.DataFrame.from_records(rows[1:], columns=header)
        return SourceTable(text_frame(frame), None, None, self.name)


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """Return ``frame`` as UTF-8 CSV (with BOM, so Excel shows Chinese correctly)."""
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode("utf-8-sig")
