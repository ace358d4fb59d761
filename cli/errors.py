"""How a failed command ends: one line on standard error, and an exit code scripts rely on.

Every exception that leaves a command comes here.  Errors the product raises on purpose
(:class:`~engine.errors.CaseworkError`), database and mail-server failures are told in
one line ``error: <what is wrong>``, with a few indented ``  field: problem`` lines where
a form or a process step has particulars; anything else is a bug and says so in one line
too.  ``--debug`` (or ``CASEWORK_DEBUG=1``) adds the traceback.  With ``--json`` the
error is one JSON object on standard error instead, and standard output stays empty.

The exit codes are :data:`EXIT_CODES`; ``docs/operations.md`` explains them with examples.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from dataclasses import dataclass, field

from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError, DataError, DBAPIError, IntegrityError, ProgrammingError

from designer.scenarios import ScenarioFailed
from engine.errors import (
    CaseworkError,
    Conflict,
    DefinitionError,
    Forbidden,
    InvalidInput,
    NotFound,
    ProcessError,
    StoreUnavailable,
)
from engine.store.db import database_url
from mail.errors import MailServerError
from mail.message.quarantine import Quarantine
from mail.smtp import TransportError

#: exit code -> (kind, meaning): the documented table, in one place.
EXIT_CODES: dict[int, tuple[str, str]] = {
    0: ("ok", "success"),
    1: ("refused_definition", "a BPMN file, case-type TOML or scenario was refused"),
    2: ("usage", "bad command line: unknown command or option, missing or invalid value"),
    3: ("not_found", "no such case, task, user, group, mailbox, ... (or not visible)"),
    4: ("forbidden", "the acting user may not do this"),
    5: ("conflict", "someone else acted first, or the name exists; reload and retry"),
    6: ("invalid_input", "bad data: JSON, form fields, a file that cannot be read"),
    7: ("database", "the database cannot be reached, or is not set up (run `init`)"),
    8: ("process_error", "a step of the process failed (gateway, script); nothing changed"),
    9: ("mail_server", "an IMAP or SMTP server is down, refused the login or failed TLS"),
    70: ("internal_error", "a bug: please report it with the output of --debug"),
    130: ("interrupted", "stopped with Ctrl-C"),
}

#: Error classes -> exit code; the first match wins, so subclasses come first.
_CODES: list[tuple[type[BaseException], int]] = [
    (DefinitionError, 1),
    (ScenarioFailed, 1),
    (NotFound, 3),
    (Forbidden, 4),
    (Conflict, 5),
    (InvalidInput, 6),
    (StoreUnavailable, 7),
    (ProcessError, 8),
    (MailServerError, 9),
    (TransportError, 9),
    (CaseworkError, 6),  # any other refusal is about what was asked
    (Quarantine, 6),  # a message that cannot be taken in
    (OverflowError, 6),  # a number past what the database stores (SQLite)
]
MAIL_SERVER = 9
INTERNAL = 70
INTERRUPTED = 130


def debugging(flag: bool = False) -> bool:
    """``--debug`` or ``CASEWORK_DEBUG=1``."""
    return flag or os.environ.get("CASEWORK_DEBUG", "") not in ("", "0")


@dataclass
class Failure:
    """What the user is told: ``message`` and the indented ``details`` under it."""

    code: int
    message: str
    details: dict[str, str] = field(default_factory=dict)
    #: lines printed as they are (a refused definition's ``file:line:col: ...`` problems)
    lines: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return EXIT_CODES[self.code][0]


def describe(exc: BaseException, db: str | None = None) -> Failure:
    """The failure to report for ``exc``; ``db`` is the ``--db`` option, for naming it."""
    code = next((c for kind, c in _CODES if isinstance(exc, kind)), INTERNAL)
    if isinstance(exc, DefinitionError):
        lines = [str(p) for p in exc.problems]
        return Failure(code, f"refused: {len(lines)} problem(s)", lines=lines)
    if isinstance(exc, CaseworkError):
        return Failure(code, exc.message, exc.details())
    if isinstance(exc, Quarantine):
        return Failure(code, str(exc))
    if isinstance(exc, DBAPIError):
        known = _database_failure(exc, db)
        if known is not None:
            return known
    if isinstance(exc, OverflowError):
        return Failure(code, f"a number is too large ({exc})")
    if isinstance(exc, KeyboardInterrupt):
        return Failure(INTERRUPTED, "interrupted")
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return Failure(code, f"internal error: {type(exc).__name__}: {first}")


def _database_failure(exc: DBAPIError, db: str | None) -> Failure | None:
    """Not set up (a table or schema is missing), not reachable or not a database, a lost
    race, a value out of range; ``None`` for a failure that is a bug (bad SQL)."""
    text = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
    state = getattr(exc.orig, "sqlstate", None)
    # 42P01 undefined table, 42703 undefined column, 3F000 no such schema (PostgreSQL)
    if state in ("42P01", "42703", "3F000") or text.startswith(("no such table", "no such column")):
        return Failure(
            7,
            f"the database {_shown(db)} is not set up for this version of Casework "
            f"({text}); run `python run.py init` first",
        )
    if isinstance(exc, IntegrityError):  # a unique name or row taken in the meantime
        return Failure(5, f"the change conflicts with what is stored ({text}); try again")
    if isinstance(exc, DataError):
        return Failure(6, f"a value the database cannot store ({text})")
    if isinstance(exc, ProgrammingError):
        return None
    return Failure(7, f"cannot use the database {_shown(db)}: {text}")


def _shown(db: str | None) -> str:
    """The database URL without its password."""
    url = database_url(db)
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return repr(url)


def report(exc: BaseException, *, debug: bool, as_json: bool, db: str | None = None) -> int:
    """Tell the user about ``exc`` on standard error; the exit code to end with."""
    failure = describe(exc, db)
    if debug and failure.code != INTERRUPTED:
        traceback.print_exception(exc, file=sys.stderr)
    message = failure.message
    if failure.code == INTERNAL and not debug:
        message += " (run with --debug for the traceback)"
    if as_json:
        body: dict[str, object] = {
            "exit_code": failure.code,
            "kind": failure.kind,
            "message": message,
            "details": failure.details,
        }
        if failure.lines:
            body["problems"] = failure.lines
        print(json.dumps({"error": body}, ensure_ascii=False), file=sys.stderr)
        return failure.code
    for line in failure.lines:  # a designer's tools read these as they are
        print(line, file=sys.stderr)
    if not failure.lines:
        print(f"error: {message}", file=sys.stderr)
    for name, problem in failure.details.items():
        print(f"  {name}: {problem}", file=sys.stderr)
    return failure.code
