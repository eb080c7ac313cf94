"""Log lines: one JSON object per line (or plain text), each naming its request.

Fields: ``time``, ``level``, ``logger``, ``message`` and, during a request, its
``request_id`` and ``user_id``; the access line of each request adds ``method``,
``route`` (the template, never the query string, which may carry secrets), ``status``
and ``duration_ms``. Nothing here logs headers or bodies: tokens and passwords never
reach a log line through this module.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from api.ops.context import current_request
from layers.settings import OpsSettings

ACCESS_LOGGER = "api.access"
ACCESS_FIELDS = ("method", "route", "status", "duration_ms")


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    """Return the request's fields of ``record``: its context's, then the access line's."""
    fields: dict[str, Any] = {}
    context = current_request()
    if context is not None:
        fields["request_id"] = context.request_id
        if context.user_id is not None:
            fields["user_id"] = context.user_id
    for name in ACCESS_FIELDS:
        value = record.__dict__.get(name)
        if value is not None:
            fields[name] = value
    return fields


class JsonFormatter(logging.Formatter):
    """Format a record as one line of JSON (newlines in messages and tracebacks escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        """Return ``record`` as a JSON object on one line."""
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_fields(record),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class PlainFormatter(logging.Formatter):
    """Format a record as text for a terminal, the request's fields as ``name=value``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        """Return the text line of ``record`` with its request's fields after the message."""
        fields = " ".join(f"{name}={value}" for name, value in _fields(record).items())
        text = super().formatMessage(record)
        return f"{text} [{fields}]" if fields else text


def configure_logging(ops: OpsSettings, stream: TextIO | None = None) -> None:
    """Send every log record of the process to ``stream`` (stderr) in the configured format."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if ops.log_format == "json" else PlainFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(ops.log_level)
