"""Value types shared by request schemas and query parameters."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime

from layers.errors import InvalidInput
from layers.values import storable_instant


def _storable(value: datetime) -> datetime:
    try:
        return storable_instant(value, "instant")
    except InvalidInput as exc:
        raise ValueError(exc.message) from None


# An instant with its UTC offset, in UTC: PostgreSQL refuses offsets beyond ±15:59 that
# Python reads (2026-01-01T00:00:00-20:49), and such a value is a 422, not a 500.
Instant = Annotated[AwareDatetime, AfterValidator(_storable)]
