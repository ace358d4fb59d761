"""What a log line is about: the request it serves and the case it works on.

Two context variables any code may read, filled where the facts are known: the web app
sets the request id for each request (``web/request_ids.py``); loading or opening a case
notes its number (``engine.run.workflows``).  The log formatter (``cli/logs.py``) adds both
to every line, so one request's or one case's lines can be found among thousands.

A loop that works on one case after another (the worker's sweep, mail intake) wraps each
in :func:`scope`, so a case noted inside is forgotten after it and never names the next
case's lines.  A web request runs in its own context, so whatever it notes ends with it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

#: The id of the HTTP request being served (``X-Request-ID``), if any.
request_id: ContextVar[str | None] = ContextVar("casework_request_id", default=None)
#: The number of the case being worked on (``C-000123``), if any.
case_key: ContextVar[str | None] = ContextVar("casework_case_key", default=None)


def note_case(number: str) -> None:
    """The work from here on is about case ``number`` (until the enclosing scope ends)."""
    case_key.set(number)


@contextmanager
def scope(*, case: str | None = None) -> Iterator[None]:
    """A piece of work of its own: the case it notes (or ``case``) is forgotten after it."""
    token = case_key.set(case)
    try:
        yield
    finally:
        case_key.reset(token)


#: SpiffWorkflow's loggers, one record for every state change of a task or workflow.
LIBRARY_STATE_LOGGERS = ("spiff.task", "spiff.workflow")


def keep_case_data_out_of_library_logs() -> None:
    """Raise SpiffWorkflow's state-change loggers to WARNING unless someone set a level.

    While its loggers' own level is unset (its default) or below INFO, the library attaches
    a task's whole data to the record of every state change, and walks the workflow's task
    tree to list it.  That data is a case's customer data, which has no place in a log; and
    building those records cost about a tenth of every transition, even when no handler
    ever printed them.  ``--debug`` sets these loggers to DEBUG first, and that is kept.
    """
    for name in LIBRARY_STATE_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.WARNING)
