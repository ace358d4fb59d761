"""Logging for ``run.py``: warnings in one line each on standard error, nothing else.

Standard output belongs to the command's result (a table, or the JSON document with
``--json``), so every log line goes to standard error.  A one-shot command shows only
warnings and errors, as ``warning: ...``; the long-running ones (``worker``, ``serve``,
``mail poll`` without ``--once``) also show what they do, with a timestamp.  Libraries
that narrate their work (Alembic's "Context impl SQLiteImpl.", the scheduler's every
run, SpiffWorkflow's every step) stay at warnings unless ``--debug``.

A logged exception is one line ``...: ExceptionType: message`` unless ``--debug``, which
prints its traceback: a user never sees a traceback they did not ask for.
"""

from __future__ import annotations

import logging
import sys

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


def configure(debug: bool) -> None:
    """Set up logging for a one-shot command (called before any command runs)."""
    _install(_ONE_SHOT, logging.INFO if debug else logging.WARNING, debug)


def for_service(debug: bool) -> None:
    """Long-running commands: what they do at INFO, each line with its time."""
    _install(_SERVICE, logging.INFO, debug)


def _install(fmt: str, level: int, debug: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter(fmt, debug))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in NOISY:
        logging.getLogger(name).setLevel(logging.NOTSET if debug else logging.WARNING)
