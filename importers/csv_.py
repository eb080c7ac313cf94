"""Delimited text (CSV/TSV) and Excel sheets: attribute rows whose coordinates are columns."""

from __future__ import annotations

import codecs
import csv
import io

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from importers.base import Importer, SourceTable, text_frame
from importers.files import detect_encoding
from importers.formulas import unescape_csv_frame
from importers.stop_lines import csv_stop_lines
from importers.widths import check_width
from layers.errors import InvalidInput

_SNIFF_BYTES = 1 << 20


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        count = seen.get(name, 0)
        seen[name] = count + 1
        out.append(f"{name}.{count}" if count else name)
    return out


def _arrow_csv(source: str | io.BytesIO, names: list[str], delimiter: str) -> pd.DataFrame:
    """Return the rows after the header as text columns ('' for an empty field)."""
    table = pacsv.read_csv(
        source,
        read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()),
            strings_can_be_null=False, quoted_strings_can_be_null=False,
        ),
    )  # fmt: skip
    frame = table.to_pandas()
    for name in names:  # what pandas' skipinitialspace did: no blanks after a delimiter
        if pc.any(pc.starts_with(table.column(name), " ")).as_py():
            frame[name] = frame[name].str.lstrip(" ")
    return frame


def _pandas_csv(source: str | io.BytesIO, names: list[str], delimiter: str) -> pd.DataFrame:
    """Return the rows with pandas' parser, which also takes a quoted field after a blank."""
    if isinstance(source, io.BytesIO):
        source.seek(0)
    frame = pd.read_csv(
        source, dtype=str, keep_default_na=False, encoding="utf-8", sep=delimiter,
        encoding_errors="strict", skipinitialspace=True, header=0, names=names,
    )  # fmt: skip
    if not isinstance(frame.index, pd.RangeIndex):  # pandas made the extra fields an index
        raise pd.errors.ParserError(f"some rows have more than the header's {len(names)} fields")
    return frame


def read_delimited(importer: Importer, fmt: str) -> SourceTable:
    """Read a delimited text file as text columns, detecting encoding and delimiter.

    pyarrow's multi-threaded reader parses a million rows in ~0.2 s (pandas' C
    parser takes ~1.5 s); pandas reads what Arrow refuses, such as a quoted field
    after a blank. Files in another encoding than UTF-8 are decoded first.
    """
    path = importer.path
    check_width(path)
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    if not head.strip():
        raise InvalidInput(f"{path.name} is empty")
    # A cut inside a multi-byte character must not count against UTF-8.
    encoding = importer.options.encoding or detect_encoding(head[: head.rfind(b"\n") + 1] or head)
    sample = head.decode(encoding, errors="ignore").lstrip("\ufeff")
    try:
        delimiter = csv.Sniffer().sniff(sample[:20_000], delimiters=",\t;|").delimiter
    except csv.Error:
        delimiter = ","
    header = next(csv.reader(io.StringIO(sample), delimiter=delimiter, skipinitialspace=True))
    names = _unique([str(c).strip() for c in header])
    source: str | io.BytesIO = str(path)
    try:
        if codecs.lookup(encoding).name != "utf-8":
            source = io.BytesIO(path.read_bytes().decode(encoding).encode("utf-8"))
        try:
            frame = _arrow_csv(source, names, delimiter)
        except pa.ArrowInvalid:  # what Arrow refuses, pandas may read (or say why not)
            frame = _pandas_csv(source, names, delimiter)
    except (UnicodeDecodeError, LookupError) as exc:
        raise InvalidInput(f"cannot read {path.name} as {encoding} text: {exc}") from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InvalidInput(f"cannot read {path.name} as {encoding} delimited text: {exc}") from exc
    return SourceTable(frame, None, None, fmt, encoding)


class CSVImporter(Importer):
    """CSV or TSV with a header row; ``--table lines``: stops in order, one line per line id."""

    name = "csv"

    def read(self) -> SourceTable:
        """Return the rows of the file as text (formula escapes of our exports undone)."""
        table = read_delimited(self, self.name)
        table.columns = unescape_csv_frame(table.columns)
        if self.options.table == "lines":
            return csv_stop_lines(table)
        return table


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
