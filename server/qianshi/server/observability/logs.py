"""Logging: text for a terminal, JSON lines for machines (``--log-format``).

Every record logged while a task runs carries the task's ``task_id`` and ``request_id``: the
``LogContext`` event observer (``metrics.MeteredEventLog``) puts them in a context variable when the
task's ``accepted`` event is appended — in the task's own asyncio task, which the stage work inherits
— and ``ContextFilter`` copies them onto each record. ``extra={...}`` fields appear in the JSON too.

Questions are personal. The convention: a question (or any text from the person) is logged only as
an ``extra`` field named in ``PERSONAL`` (``extra={"question": q}``), never inside the message, and
``ContextFilter`` removes those fields from every record above DEBUG, whatever the handler or format.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from qianshi.server.pipeline import events as ev

FORMATS = ("text", "json")
PERSONAL = frozenset({"question", "question_text", "prompt"})
"""``extra`` fields that may hold personal text: kept at DEBUG only."""
CONTEXT_FIELDS = ("task_id", "request_id")

_context: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "qianshi_log_context", default=None
)
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


def bind(**fields: str) -> None:
    """Attach ``fields`` to every record logged from this asyncio task (and the tasks it starts)."""
    _context.set({**(_context.get() or {}), **fields})


class LogContext:
    """An event observer that binds a task's ids when its ``accepted`` event is appended."""

    def observe(self, event: ev.Event) -> None:
        payload = event.payload
        if type(payload) is ev.Accepted:
            bind(task_id=event.task_id, request_id=payload.request_id)

    def forget(self, task_id: str) -> None:
        return None


class ContextFilter(logging.Filter):
    """Adds the bound task fields to each record and strips personal fields above DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        fields = _context.get()
        if fields:
            for key, value in fields.items():
                if not hasattr(record, key):
                    setattr(record, key, value)
        if record.levelno > logging.DEBUG:
            for key in PERSONAL.intersection(record.__dict__):
                delattr(record, key)
        return True


def extras(record: logging.LogRecord) -> dict[str, Any]:
    """The record's ``extra`` fields (everything the logging module did not put there itself)."""
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD and not k.startswith("_")}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, the task fields and other extras."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in extras(record).items():
            out[key] = value if isinstance(value, str | int | float | bool | type(None)) else repr(value)
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        return json.dumps(out, ensure_ascii=False, default=repr)


class TextFormatter(logging.Formatter):
    """The usual one-line text, with the task fields appended when there are any."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        tags = " ".join(f"{k}={getattr(record, k)}" for k in CONTEXT_FIELDS if getattr(record, k, ""))
        if not tags:
            return line
        head, sep, rest = line.partition("\n")  # keep a traceback below the tagged line
        return f"{head} [{tags}]{sep}{rest}"


def handler(fmt: str = "text", stream: TextIO | None = None) -> logging.Handler:
    """A stream handler in ``fmt`` ("text" or "json") with the context filter."""
    if fmt not in FORMATS:
        raise ValueError(f"log format must be one of {FORMATS}, got {fmt!r}")
    out = logging.StreamHandler(stream if stream is not None else sys.stderr)
    out.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    out.addFilter(ContextFilter())
    return out


def configure(level: str | int = "INFO", fmt: str = "text", stream: TextIO | None = None) -> None:
    """Configure the root logger (replacing its handlers) for the server or the gateway."""
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler(fmt, stream))
    root.setLevel(level)
