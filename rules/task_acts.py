"""The task inbox and task actions, each within the one access decision.

A task is the user's to see only when they may see its case's summary: the inbox, ``task
show`` and every task action filter by ``case_filter(subject, Level.SUMMARY)`` - the same
SQL compiler every case list uses - so a member of a task's lane group never sees a task
of a case restricted from them, hidden from them in the portal, or of a customer group
they may not read.  Such a task answers "not found", exactly like a missing id.  Whether
they may act on a task they can see is the engine's candidate check.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, bindparam, select

from engine.errors import Forbidden, InvalidInput, NotFound
from engine.run import incidents, summaries, task_queries, tasks
from engine.runtime import UnitOfWork
from engine.store.fast import Prepared
from engine.store.models import Case, HumanTask, User

from .case_acts import require
from .case_view import task_views
from .decision import decide
from .facts import facts_of
from .levels import Level
from .subject import Subject, load_subject
from .visibility import case_filter


def visible_tasks(subject: Subject) -> ColumnElement[bool]:
    """SQL over ``Case``: the cases whose tasks the subject may see."""
    return case_filter(subject, Level.SUMMARY)


def inbox(
    work: UnitOfWork, subject: Subject, user: User, *, scope: str = "all", limit: int = 100
) -> list[task_queries.InboxItem]:
    """Open tasks the user may act on, of cases they may see."""
    return task_queries.inbox(work, user, scope=scope, limit=limit, cases=visible_tasks(subject))


def inbox_rows(
    work: UnitOfWork, subject: Subject, user: User, *, scope: str = "all", limit: int = 100
) -> list[dict[str, Any]]:
    """The inbox as rows for the CLI and the API (customers: their own view of a task)."""
    rows = summaries.task_summaries(work, inbox(work, subject, user, scope=scope, limit=limit))
    return task_views(work, subject, user, rows)


def require_visible_task(work: UnitOfWork, subject: Subject, task_id: int) -> task_queries.TaskRow:
    """The task, when the subject may see its case; "not found" (as for a missing id)
    otherwise."""
    found = _visible_task(subject).first(work.session, {"task_id": task_id})
    if found is None:
        raise NotFound(f"no task {task_id}")
    return task_queries.task_row(found)


@lru_cache(maxsize=1024)
def _visible_task(subject: Subject) -> Prepared:
    """The task by id when its case is visible to ``subject`` (compiled once per subject)."""
    return Prepared(
        select(*task_queries.TASK_COLUMNS)
        .join(Case, Case.id == HumanTask.case_id)
        .where(HumanTask.id == bindparam("task_id"), visible_tasks(subject))
    )


def show_task(work: UnitOfWork, subject: Subject, user: User, task_id: int) -> dict[str, Any]:
    task = require_visible_task(work, subject, task_id)
    return task_views(work, subject, user, [summaries.task_summary(work, task)])[0]


def open_tasks_for(
    work: UnitOfWork, subject: Subject, user: User, case_id: int, *, mine_only: bool = False
) -> list[dict[str, Any]]:
    """The open tasks of a case this subject may see after acting: all of them for those
    who see the case's actions, only their own for everyone else (and with ``mine_only``)."""
    items = task_queries.case_tasks(work, case_id)
    facts = facts_of(work, case_id, subject)
    if mine_only or "case_actions" not in decide(subject, facts, "summary").sections:
        items = [i for i in items if task_queries.is_eligible(work, i.task.id, user)]
    return task_views(work, subject, user, summaries.task_summaries(work, items))


def claim(work: UnitOfWork, subject: Subject, user: User, task_id: int) -> task_queries.TaskRow:
    require_visible_task(work, subject, task_id)
    return tasks.claim(work, task_id=task_id, user=user)


def release(work: UnitOfWork, subject: Subject, user: User, task_id: int) -> task_queries.TaskRow:
    require_visible_task(work, subject, task_id)
    return tasks.release(work, task_id=task_id, user=user)


def complete(
    work: UnitOfWork,
    subject: Subject,
    user: User,
    task_id: int,
    data: dict[str, Any] | None = None,
) -> tasks.Completion:
    task = require_visible_task(work, subject, task_id)
    if subject.portal is not None and data:
        _customer_may_set(work, task, data)
    with incidents.attempt("complete", task_id=task_id, user_id=user.id, data=data or {}):
        return tasks.complete(work, task_id=task_id, user=user, data=data)


def _customer_may_set(work: UnitOfWork, task: task_queries.TaskRow, data: dict[str, Any]) -> None:
    """A customer sets only what the task's form declares: a task without a form (which
    agents may complete with any variables) takes no data from them."""
    version_id = work.session.scalar(select(Case.version_id).where(Case.id == task.case_id))
    assert version_id is not None
    route = work.runtime.version(work.session, version_id).routing.get(task.element_id)
    if route is None or not route.form:
        raise InvalidInput(
            "cannot complete the task",
            {str(k): "is not a field of this task's form" for k in data},
        )


def hand_over(
    work: UnitOfWork, subject: Subject, user: User, task_id: int, to: User, *, delegate: bool
) -> task_queries.TaskRow:
    """Reassign or delegate a task (agents' work): the decision must allow it, and the new
    holder must be an active user allowed to see the case too."""
    task = require_visible_task(work, subject, task_id)
    if not to.is_active:
        raise InvalidInput(
            f"task {task_id} was not handed over",
            {"to": f"{to.username} is deactivated: choose someone else"},
        )
    case = work.session.get(Case, task.case_id)
    assert case is not None
    require(work, subject, case, "delegate" if delegate else "reassign")
    other = load_subject(work, to)
    if not decide(other, facts_of(work, task.case_id, other), "summary").allowed:
        raise Forbidden(
            f"{to.username} may not act on task {task_id} '{task.name}': they may not see its case"
        )
    action = tasks.delegate if delegate else tasks.reassign
    return action(work, task_id=task_id, actor=user, to=to)
