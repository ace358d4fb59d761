"""Logging for ``run.py``: warnings in one line each on standard error, nothing else.

Standard output belongs to the command's result (a table, or the JSON document with
``--json``), so every log line goes to standard error.  A one-shot command shows only
warnings and errors, as ``warning: ...``; the long-running ones (``worker``, ``serve``,
``mail poll`` without ``--once``) also show what they do, with a timestamp.  Libraries
that narrate their work (Alembic's "Context impl SQLiteImpl.", the scheduler's every
run, SpiffWorkflow's every step) stay at warnings unless ``--debug``.

A logged exception is one line ``...: ExceptionType: message`` unless ``--debug``, which
prints its traceback: a user never sees a traceback they did not ask for.

``--log-format json`` (or ``CASEWORK_LOG_FORMAT=json``) writes each line as one JSON object
instead, for a log collector: ``timestamp`` (UTC, ISO 8601), ``level``, ``logger``,
``message``, and ``request_id`` and ``case`` where the line is about a request or a case
(``engine.log_context``); an exception adds ``error`` (and ``traceback`` with ``--debug``).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import traceback
from datetime import UTC, datetime

from engine import log_context

#: The formats ``--log-format`` offers.
FORMATS = ("text", "json")

#: Loggers that report routine work at INFO.
NOISY = ("alembic", "apscheduler", "spiff", "SpiffWorkflow")

_ONE_SHOT = "%(levelname)s: %(message)s"
_SERVICE = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _Formatter(logging.Formatter):
    """Lower-case level names; an exception as its type and message unless debugging."""

    def __init__(self, fmt: str, debug: bool) -> None:
        super().__init__(fmt)
        self.debug = debug

    def format(self, record: logging.LogRecord) -> str:
        record = logging.makeLogRecord(record.__dict__)
        record.levelname = record.levelname.lower()
        if record.exc_info and not self.debug:
            exc = record.exc_info[1]
            record.msg = f"{record.getMessage()}: {type(exc).__name__}: {exc}"
            record.args = None
            record.exc_info = record.exc_text = None
        return super().format(record)


class _JsonFormatter(logging.Formatter):
    """One JSON object per line: what a log collector parses without a pattern."""

    def __init__(self, debug: bool) -> None:
        super().__init__()
        self.debug = debug

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request, case = log_context.request_id.get(), log_context.case_key.get()
        if request is not None:
            line["request_id"] = request
        if case is not None:
            line["case"] = case
        for name in ("method", "path", "status", "duration_ms"):  # a request's own line
            if hasattr(record, name):
                line[name] = getattr(record, name)
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            line["error"] = f"{type(exc).__name__}: {exc}"
            if self.debug:
                line["traceback"] = "".join(traceback.format_exception(exc))
        return json.dumps(line, ensure_ascii=False, default=str)


class _ContextFilter(logging.Filter):
    """Text lines name the case and request too, at their end, when there is one."""

    def filter(self, record: logging.LogRecord) -> bool:
        about = []
        if (case := log_context.case_key.get()) is not None:
            about.append(f"case={case}")
        if (request := log_context.request_id.get()) is not None:
            about.append(f"request={request}")
        record.about = f" [{' '.join(about)}]" if about else ""
        return True


def log_format(flag: str | None = None) -> str:
    """``--log-format``, else ``CASEWORK_LOG_FORMAT``, else text; anything else is refused."""
    chosen = (flag or os.environ.get("CASEWORK_LOG_FORMAT") or "text").strip().lower()
    if chosen not in FORMATS:
        from engine.errors import InvalidInput

        raise InvalidInput(
            "unknown log format", {"CASEWORK_LOG_FORMAT": f"{chosen!r}: one of text, json"}
        )
    return chosen


_format = "text"


def configure(debug: bool, fmt: str = "text") -> None:
    """Set up logging for a one-shot command (called before any command runs)."""
    global _format
    _format = fmt
    _install(_ONE_SHOT, logging.INFO if debug else logging.WARNING, debug)


def for_service(debug: bool) -> None:
    """Long-running commands: what they do at INFO, each line with its time."""
    _install(_SERVICE + "%(about)s", logging.INFO, debug)


def _install(fmt: str, level: int, debug: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if _format == "json":
        handler.setFormatter(_JsonFormatter(debug))
    else:
        handler.setFormatter(_Formatter(fmt, debug))
        handler.addFilter(_ContextFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in NOISY:
        logging.getLogger(name).setLevel(logging.NOTSET if debug else logging.WARNING)
    for name in log_context.LIBRARY_STATE_LOGGERS:  # the engine quiets them unless a level is set
        logging.getLogger(name).setLevel(logging.DEBUG if debug else logging.WARNING)
