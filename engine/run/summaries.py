"""Plain-dict read models of cases and tasks, shared by the CLI and the API.

Callers outside the engine get dictionaries, not ORM rows, so they cannot lazily
load (or accidentally change) anything after the transaction has ended.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import bindparam, select

from engine.errors import NotFound
from engine.runtime import UnitOfWork
from engine.store.fast import Prepared
from engine.store.models import AuditEntry, Case, CaseType, HumanTask, User

if TYPE_CHECKING:
    from engine.run.task_queries import InboxItem, TaskRow

_PERSON = (User.id, User.username, User.is_active)
_USERNAMES = select(*_PERSON).where(User.id.in_(bindparam("ids", expanding=True)))
#: A summary names one or two people (raiser and assignee, who claimed and who completed):
#: those few are read with prepared statements of 1..4 parameters.
_FEW = 4
_USERNAMES_OF = {
    size: Prepared(select(*_PERSON).where(User.id.in_([bindparam(f"u{n}") for n in range(size)])))
    for size in range(1, _FEW + 1)
}
_TYPE_KEY = Prepared(select(CaseType.key).where(CaseType.id == bindparam("type_id")))
_CASE_OF_TASK = Prepared(
    select(Case.number, Case.version_id).where(Case.id == bindparam("case_id"))
)


class Person(NamedTuple):
    """A user a summary names: the name, and whether they are still active (a deactivated
    assignee or holder is marked, so someone reassigns their work)."""

    username: str
    active: bool


def _usernames(work: UnitOfWork, ids: Iterable[int | None]) -> dict[int, Person]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    found: Sequence[tuple[Any, ...]]
    if len(wanted) <= _FEW:
        params = {f"u{n}": user_id for n, user_id in enumerate(wanted)}
        found = _USERNAMES_OF[len(wanted)].rows(work.session, params)
    else:
        found = work.session.execute(_USERNAMES, {"ids": wanted}).tuples().all()
    return {user_id: Person(name, bool(active)) for user_id, name, active in found}


def _name(names: dict[int, Person], user_id: int | None) -> str | None:
    person = names.get(user_id) if user_id is not None else None
    return person.username if person else None


def _deactivated(names: dict[int, Person], user_id: int | None) -> bool:
    person = names.get(user_id) if user_id is not None else None
    return person is not None and not person.active


def case_summary(work: UnitOfWork, case: Case) -> dict[str, Any]:
    names = _usernames(work, {case.raiser_id, case.assignee_id})
    kind = _TYPE_KEY.first(work.session, {"type_id": case.case_type_id})
    return {
        "number": case.number,
        "subject": case.subject,
        "status": case.status,
        "type": kind[0] if kind else None,
        "priority": case.priority,
        "raiser": _name(names, case.raiser_id),
        "assignee": _name(names, case.assignee_id),
        "assignee_deactivated": _deactivated(names, case.assignee_id),
        "created_at": case.created_at,
        "updated_at": case.updated_at,
        "closed_at": case.closed_at,
        "outcome": case.outcome,
        "next_timer_due": case.next_timer_due,
    }


def task_summaries(work: UnitOfWork, items: list[InboxItem]) -> list[dict[str, Any]]:
    """Summaries of listed tasks: the people they name are read in one query."""
    names = _usernames(
        work, [i.task.claimed_by_id for i in items] + [i.task.completed_by_id for i in items]
    )
    return [task_summary(work, i.task, i.case_number, names, i.version_id) for i in items]


def task_summary(
    work: UnitOfWork,
    task: HumanTask | TaskRow,
    case_number: str | None = None,
    names: dict[int, Person] | None = None,
    version_id: int | None = None,
) -> dict[str, Any]:
    if names is None:
        names = _usernames(work, {task.claimed_by_id, task.completed_by_id})
    if case_number is None or version_id is None:
        found = _CASE_OF_TASK.first(work.session, {"case_id": task.case_id})
        if found is None:  # a task row always belongs to a case (foreign key)
            raise NotFound(f"no case {task.case_id}")
        case_number, version_id = found
    route = work.runtime.version(work.session, version_id).routing.get(task.element_id)
    return {
        "id": task.id,
        "case": case_number,
        "name": task.name,
        "element": task.element_id,
        "lane": task.lane,
        "role": task.role,
        "state": task.state,
        "claimed_by": _name(names, task.claimed_by_id),
        "claimed_by_deactivated": _deactivated(names, task.claimed_by_id),
        "completed_by": _name(names, task.completed_by_id),
        "created_at": task.created_at,
        "candidates": list(route.groups) + list(route.users) + (["owner"] if route.owner else [])
        if route
        else [],
        "form": [f.to_dict() for f in route.form] if route else [],
    }


_CASE_TASKS = (
    select(HumanTask).where(HumanTask.case_id == bindparam("case_id")).order_by(HumanTask.id)
)
_CASE_HISTORY = (
    select(
        AuditEntry.at,
        AuditEntry.actor_id,
        AuditEntry.entity,
        AuditEntry.entity_id,
        AuditEntry.action,
        AuditEntry.after,
        AuditEntry.before,
    )
    .where(AuditEntry.case_id == bindparam("case_id"))
    .order_by(AuditEntry.id)
)


def case_detail(work: UnitOfWork, case: Case) -> dict[str, Any]:
    """Everything ``case show`` prints: summary, tasks and the audit trail."""
    tasks = list(work.session.scalars(_CASE_TASKS, {"case_id": case.id}))
    entries = list(work.session.execute(_CASE_HISTORY, {"case_id": case.id}))
    names = _usernames(
        work,
        {e.actor_id for e in entries}
        | {t.claimed_by_id for t in tasks}
        | {t.completed_by_id for t in tasks},
    )
    detail = case_summary(work, case)
    detail["tasks"] = [task_summary(work, t, case.number, names, case.version_id) for t in tasks]
    detail["history"] = [
        {
            "at": e.at,
            "actor": _name(names, e.actor_id) if e.actor_id else "system",
            "entity": e.entity,
            "id": e.entity_id,
            "action": e.action,
            "before": e.before,
            "after": e.after,
        }
        for e in entries
    ]
    return detail
