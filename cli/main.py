"""``run.py``: one entry point, sub-commands registered by the modules of this package.

Errors are mapped to exit codes in one place, so scripts can tell a refused
definition (1) from bad usage (2), a missing object (3), a forbidden action (4), a
lost race (5), invalid input (6) and an unreachable or uninitialised database (7).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sqlalchemy.exc import OperationalError

from engine.errors import (
    CaseworkError,
    Conflict,
    DefinitionError,
    Forbidden,
    InvalidInput,
    NotFound,
)

from . import access, admin, designer, mail, notices, services, web, work
from .output import fail

EXIT_CODES: list[tuple[type[CaseworkError], int]] = [
    (DefinitionError, 1),
    (NotFound, 3),
    (Forbidden, 4),
    (Conflict, 5),
    (InvalidInput, 6),
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="run.py", description="Casework: cases run as BPMN processes."
    )
    parser.add_argument(
        "--db", help="database URL (default: $CASEWORK_DB or sqlite:///casework.db)"
    )
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (admin, designer, work, access, notices, services, web, mail):
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except DefinitionError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    except CaseworkError as exc:
        fail(str(exc))
        if isinstance(exc, InvalidInput):
            for field, message in exc.errors.items():
                print(f"  {field}: {message}", file=sys.stderr)
        return next((code for cls, code in EXIT_CODES if isinstance(exc, cls)), 1)
    except OperationalError as exc:
        message = str(exc.orig).splitlines()[0] if exc.orig else str(exc)
        if "no such table" in message or "does not exist" in message:
            fail(f"the database is not set up ({message}); run `python run.py init` first")
        else:
            fail(f"database error: {message}")
        return 7
    except KeyboardInterrupt:
        return 130
