"""Many values as one SQL parameter: the text of a PostgreSQL array.

psycopg2 sends a Python list as ``ARRAY[v1, v2, ...]``, one constant of the statement per
value, which the server parses and plans one by one: for the thousands of values of a
track batch that costs more than the write itself (a batch's positions: 270 against 100
ms, measured). As one text parameter cast to an array type the server reads them with
the type's own parser, in one go.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import numpy as np
import numpy.typing as npt

_QUOTED = str.maketrans({"\\": "\\\\", '"': '\\"'})


def _element(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int | float):
        return "NULL" if value != value else repr(value)  # NaN: none given
    if isinstance(value, datetime):
        return f'"{value.isoformat()}"'
    return '"' + str(value).translate(_QUOTED) + '"'


def array_text(values: Iterable[object]) -> str:
    """Return ``values`` as the text of a PostgreSQL array (None and NaN as NULL).

    Examples
    --------
    >>> array_text([1, 2.5, None, float("nan")])
    '{1,2.5,NULL,NULL}'
    >>> array_text(["c,d", True])
    '{"c,d",t}'
    """
    return "{" + ",".join(map(_element, values)) + "}"


def numbers_text(values: npt.NDArray[np.float64] | npt.NDArray[np.int64]) -> str:
    """Return a numeric array as the text of a PostgreSQL array (NaN as NULL), fast.

    What ``array_text`` does for numbers, without its test of each value's type: a
    batch's columns hold thousands of them.

    Examples
    --------
    >>> numbers_text(np.array([1.0, 2.5, np.nan]))
    '{1.0,2.5,NULL}'
    >>> numbers_text(np.array([3, 4]))
    '{3,4}'
    """
    if values.dtype.kind == "f":
        # finite numbers never print as "nan": only the missing ones become NULL
        return "{" + ",".join(map(repr, values.tolist())).replace("nan", "NULL") + "}"
    return "{" + ",".join(map(str, values.tolist())) + "}"
