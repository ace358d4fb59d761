"""``run.py``: one entry point, sub-commands registered by the modules of this package.

Whatever fails ends in :mod:`cli.errors`: one line on standard error and an exit code
from its table, so scripts can tell a refused definition from bad usage, a missing
object, a forbidden action, a lost race, invalid input, an unusable database, a failed
process step or a mail server that is down -- and a user never sees a traceback unless
they ask for it with ``--debug``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from . import (
    access,
    admin,
    attachments,
    backups,
    designer,
    inbox,
    incidents,
    jobs,
    kb,
    logs,
    mail,
    messages,
    notices,
    notifications,
    parties,
    privacy,
    records,
    search,
    services,
    web,
    work,
)
from .errors import EXIT_CODES, debugging, report


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="run.py",
        description="Casework: cases run as BPMN processes.",
        epilog="exit codes: "
        + ", ".join(f"{code} {kind}" for code, (kind, _) in EXIT_CODES.items())
        + " (docs/operations.md explains them)",
    )
    parser.add_argument(
        "--db", help="database URL (default: $CASEWORK_DB or sqlite:///casework.db)"
    )
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
    parser.add_argument(
        "--clock",
        metavar="TIME",
        help="run as if it were TIME (e.g. 2026-03-02T09:00:00Z) and on from there, for "
        "rehearsals and tests (or $CASEWORK_CLOCK); refused when CASEWORK_PRODUCTION=1",
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        help="show tracebacks and the libraries' own logging (or set CASEWORK_DEBUG=1)",
    )
    parser.add_argument(
        "--log-format",
        choices=logs.FORMATS,
        help="text (default) or json: one JSON object per log line with timestamp, level, "
        "message, request id and case (or $CASEWORK_LOG_FORMAT)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    modules = (
        admin,
        designer,
        work,
        attachments,
        messages,
        incidents,
        jobs,
        access,
        notices,
        services,
        web,
        mail,
        backups,
        search,
        notifications,
        records,
        kb,
        privacy,
        parties,
        inbox,
    )
    for module in modules:
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.debug = debugging(args.debug)
    try:
        logs.configure(args.debug, logs.log_format(args.log_format))
        return int(args.handler(args) or 0)
    except BrokenPipeError as exc:
        if _stdout_closed():  # ``run.py case list | head``: the reader has all it wanted
            return 0
        return report(exc, debug=args.debug, as_json=args.json, db=args.db)
    except (Exception, KeyboardInterrupt) as exc:
        return report(exc, debug=args.debug, as_json=args.json, db=args.db)


def _stdout_closed() -> bool:
    """Whether the reader of standard output went away; if so, stop writing there."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return True
    return False
