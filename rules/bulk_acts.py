"""Acting on many cases at once from the inbox: assign, set the priority, close.

Each case is one call of the same door as the case page (``case_acts``), so the one
decision checks every case on its own; the caller runs each in its own unit of work, so
a refusal leaves the others done.  :func:`refusal` turns a refusal into the short reason
the result page names beside the case ("2 open tasks"); a case the user may not see is
"not found", exactly like a number that does not exist.  :func:`act_on_each` runs a whole
request so for the CLI (``case bulk``) and the API (``POST /api/cases/bulk``).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

from sqlalchemy import func, select

from engine.errors import CaseworkError, Conflict, Forbidden, InvalidInput, NotFound
from engine.run import cases
from engine.runtime import UnitOfWork
from engine.store.models import HumanTask, User

from . import case_acts
from .subject import Subject

ACTS = ("assign", "priority", "close")
MAX_CASES = 100
#: How a refusal is classed for scripts (the CLI's exit-code kinds), most specific first.
KINDS: tuple[tuple[type[CaseworkError], str], ...] = (
    (NotFound, "not_found"),
    (Forbidden, "forbidden"),
    (Conflict, "conflict"),
)


@dataclass(frozen=True)
class Outcome:
    """What happened to one case of a bulk request: done, or refused and why."""

    case: str
    done: bool
    reason: str | None = None
    kind: str | None = None  # not_found, forbidden, conflict or invalid_input


def check_request(work: UnitOfWork, act: str, value: str, numbers: list[str]) -> None:
    """Refuse a bulk request that cannot apply to any case, before touching one."""
    errors = {}
    if act not in ACTS:
        errors["act"] = f"one of: {', '.join(ACTS)}"
    elif act == "priority" and value not in cases.PRIORITIES:
        errors["value"] = f"a priority: {', '.join(cases.PRIORITIES)}"
    elif act == "assign" and value:
        to = _user(work, value)
        if to is None:
            errors["value"] = f"no user '{value}'"
        elif not to.is_active:
            errors["value"] = f"{value} is deactivated: choose someone else"
    if not numbers:
        errors["cases"] = "select at least one case"
    elif len(numbers) > MAX_CASES:
        errors["cases"] = f"at most {MAX_CASES} cases at once"
    if errors:
        raise InvalidInput("cannot act on the selected cases", errors)


def _user(work: UnitOfWork, username: str) -> User | None:
    return work.session.scalar(select(User).where(User.username == username))


def act_on_case(work: UnitOfWork, subject: Subject, number: str, act: str, value: str) -> None:
    """One case of a bulk request, through the case page's own door."""
    if act == "assign":
        to = _user(work, value) if value else None
        case_acts.assign_case(work, subject, number, to)
    elif act == "priority":
        case_acts.edit_case(work, subject, number, priority=value)
    else:
        case, _ = case_acts.case_for_action(work, subject, number, "close")
        waiting = work.session.scalar(
            select(func.count())
            .select_from(HumanTask)
            .where(HumanTask.case_id == case.id, HumanTask.state == "open")
        )
        if waiting:
            raise Conflict(f"{waiting} open task{'s' if waiting != 1 else ''}")
        case_acts.close_with_outcome(work, subject, number, value)


def refusal(exc: CaseworkError, username: str, number: str) -> str:
    """Why one case was refused, in a few words."""
    if isinstance(exc, NotFound):
        return "not found"
    if isinstance(exc, InvalidInput) and exc.errors:
        return "; ".join(exc.errors.values())
    text = str(exc).replace(f" ({number})", "").replace(f"case {number} ", "")
    if isinstance(exc, Forbidden):
        text = text.removeprefix(f"{username} ").replace("may not", "you may not", 1)
    return text


#: Opens one unit of work as the acting user: the CLI's and the API's own way of doing so.
Acting = Callable[[], AbstractContextManager[tuple[UnitOfWork, Subject]]]


def act_on_each(acting: Acting, act: str, value: str, numbers: list[str]) -> list[Outcome]:
    """Check the request once, then act on each case in a unit of its own (``acting``):
    a refused case is rolled back alone and named with its reason, the others stand."""
    with acting() as (work, subject):
        check_request(work, act, value, numbers)
        username = subject.username
    outcomes = []
    for number in dict.fromkeys(numbers):
        try:
            with acting() as (work, subject):
                act_on_case(work, subject, number, act, value)
        except CaseworkError as exc:
            kind = next((k for cls, k in KINDS if isinstance(exc, cls)), "invalid_input")
            outcomes.append(Outcome(number, False, refusal(exc, username, number), kind))
        else:
            outcomes.append(Outcome(number, True))
    return outcomes
