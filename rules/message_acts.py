"""Who may deliver messages and signals, and to which case: the door for every channel.

Delivering changes a case, so it needs the "write" decision on that case (agents who
may change it, administrators); a case the user may not see answers "not found", as a
case that does not exist.  A message finds its case by the case number or by the value
of the case type's correlation property; one that finds no waiting case opens a case
when the type's process starts with that message, and is refused otherwise (404 / 409,
never dropped).  A signal goes to every open case of the type that waits for it and
that the user may change.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine.errors import Conflict, InvalidInput, NotFound
from engine.run import cases, messages
from engine.run.case_types import current_version_id
from engine.run.messages import Delivery
from engine.runtime import UnitOfWork
from engine.store.models import CaseType, User

from .case_acts import case_for_action, open_case, require
from .decision import decide
from .facts import load_facts
from .subject import Subject


def deliver_to_case(
    work: UnitOfWork,
    subject: Subject,
    user: User,
    number: str,
    kind: str,
    name: str,
    data: Any = None,
) -> Delivery:
    """Deliver a message or signal to one case, by its number."""
    values = messages.check_delivery(kind, name, data)
    case, _ = case_for_action(work, subject, number, "write")
    return messages.deliver(work, case, kind, name, values, actor_id=user.id)


def _case_type(work: UnitOfWork, key: str) -> CaseType:
    kind = work.session.scalar(select(CaseType).where(CaseType.key == key))
    if kind is None:
        raise NotFound(f"no case type '{key}'")
    return kind


def send_message(
    work: UnitOfWork,
    subject: Subject,
    user: User,
    *,
    case_type: str,
    name: str,
    key: str | None = None,
    data: Any = None,
    title: str | None = None,
) -> Delivery:
    """Deliver a message to the case of ``case_type`` whose correlation property is ``key``;
    with no such case, open one when the type's process starts with this message."""
    values = messages.check_delivery("message", name, data)
    kind = _case_type(work, case_type)
    _, version_id = current_version_id(work, case_type)
    version = work.runtime.version(work.session, version_id)
    prop = version.config.events.get("correlation")
    if key is not None:
        if not prop:
            raise InvalidInput(
                f"case type {case_type} declares no correlation property",
                {"key": 'add [messages] correlation = "<variable>" to its TOML'},
            )
        case = messages.case_by_correlation(work, kind.id, key)
        if case is not None:
            require(work, subject, case, "write")
            return messages.deliver(work, case, "message", name, values, actor_id=user.id)
        values.setdefault(prop, key)
    if name not in messages.start_messages(version):
        which = f" with {prop} = {key}" if key is not None else ""
        raise NotFound(
            f"no open {case_type} case{which} to deliver message '{name}' to, and its "
            "process does not start with that message"
        )
    opened = open_case(
        work, subject, user, case_type=case_type, title=title or name.replace("_", " ")
    )
    case = cases.case_by_number(work, opened.number)
    return messages.deliver(work, case, "message", name, values, actor_id=user.id)


def signal_targets(
    work: UnitOfWork, subject: Subject, case_type: str, name: str, data: Any = None
) -> list[str]:
    """The numbers of the open cases of a type that wait for the signal and that the
    user may change; a signal that reaches none is refused (409), not dropped."""
    messages.check_delivery("signal", name, data)
    kind = _case_type(work, case_type)
    found = [
        case.number or str(case.id)
        for case in messages.cases_waiting(work, kind.id, "signal", name)
        if decide(subject, load_facts(work, case, subject), "write").allowed
    ]
    if not found:
        raise Conflict(f"no open {case_type} case you may change waits for signal '{name}'")
    return found
