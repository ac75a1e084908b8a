"""Logging for every process: one JSON object a line for a collector, or plain text for a terminal.

A line says when, how bad, which logger and what; and, when known, the HTTP request it belongs to
(`request_id`, set by the API's middleware) and the case (`case_id`, `workflow_id`): Temporal's
`workflow.logger` and `activity.logger` put the workflow's details in the record's `temporal_workflow` /
`temporal_activity` extra, and a caller may pass `extra={"case_id": ...}` itself.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from steward.settings import Settings

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

_TEXT = "%(asctime)s %(levelname)s %(name)s%(context)s: %(message)s"
# Other libraries' chatter a production log does not need at INFO.
_QUIET = {"httpx": logging.WARNING, "httpcore": logging.WARNING, "temporalio.bridge": logging.WARNING,
          "alembic": logging.WARNING}


def context_of(record: logging.LogRecord) -> dict[str, str]:
    """The request and case a record belongs to, from the context variable and Temporal's extras."""
    found: dict[str, str] = {}
    if (rid := getattr(record, "request_id", None) or request_id.get()) is not None:
        found["request_id"] = rid
    temporal = getattr(record, "temporal_workflow", None) or getattr(record, "temporal_activity", None)
    if isinstance(temporal, dict):
        for key in ("workflow_id", "workflow_type", "activity_type", "run_id"):
            if temporal.get(key):
                found[key] = str(temporal[key])
    case_id = getattr(record, "case_id", None) or found.get("workflow_id")
    if case_id:
        found["case_id"] = str(case_id)
    return found


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (tracebacks included, escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **context_of(record),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(_TEXT)

    def format(self, record: logging.LogRecord) -> str:
        context = context_of(record)
        record.context = "".join(f" [{k}={v}]" for k, v in context.items() if k in ("request_id", "case_id"))
        return super().format(record)


def configure(settings: Settings, stream: Any = None) -> logging.Handler:
    """Replace the root logger's handlers with one on stderr (or `stream`) in the configured format."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    for name, level in _QUIET.items():
        logging.getLogger(name).setLevel(max(level, logging.getLevelName(settings.log_level)))
    # uvicorn's loggers keep their own handlers unless told otherwise: send everything through ours.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    return handler
