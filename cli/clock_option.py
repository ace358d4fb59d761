"""``--clock`` / ``CASEWORK_CLOCK``: run a command or the worker at another moment.

For rehearsals and acceptance tests: ``--clock 2026-03-02T09:00:00Z`` makes the command
(or the whole worker) see that moment and run on from it, so a test opens a case "on
Monday morning" and runs ``worker --once`` "two hours later" without waiting or editing
rows.  Off by default, and refused when the installation says it is production
(``CASEWORK_PRODUCTION=1``): there, time is the wall clock and nothing else.
"""

from __future__ import annotations

import os
from datetime import datetime

from engine.clock import Clock, StartedClock
from engine.errors import InvalidInput

ENV = "CASEWORK_CLOCK"
PRODUCTION_ENV = "CASEWORK_PRODUCTION"


def is_production() -> bool:
    return os.environ.get(PRODUCTION_ENV, "") not in ("", "0")


def clock_from(option: str | None) -> Clock | None:
    """The clock ``--clock`` (or ``CASEWORK_CLOCK``) asks for; None for the wall clock."""
    text = (option or os.environ.get(ENV, "")).strip()
    if not text:
        return None
    where = "--clock" if option else ENV
    if is_production():
        raise InvalidInput(
            f"{where} is refused in production ({PRODUCTION_ENV} is set): time there is the "
            "wall clock; rehearse on a copy of the database without it",
            {where: text},
        )
    try:
        start = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        start = None
    if start is None or start.tzinfo is None:
        raise InvalidInput(
            f"{where} must be a date and time with its zone, e.g. 2026-03-02T09:00:00Z",
            {where: text},
        )
    return StartedClock(start)
