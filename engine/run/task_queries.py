"""Who may act on a task, and the lists of open tasks: the inbox and a case's tasks.

Who may act is decided by one SQL predicate, :func:`eligible`, evaluated at the
moment of asking: membership is joined, never copied, so adding a user to a group
shows them every open task of that group and removing them hides those tasks again.
The same predicate filters the inbox here and guards every action in :mod:`engine.run.tasks`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    and_,
    bindparam,
    exists,
    or_,
    select,
)
from sqlalchemy.orm import aliased

from engine.errors import NotFound
from engine.runtime import UnitOfWork
from engine.store.fast import Prepared
from engine.store.models import (
    Case,
    CaseContact,
    Contact,
    HumanTask,
    Membership,
    TaskCandidate,
    User,
)


def eligible(user_id: int | BindParameter[int]) -> ColumnElement[bool]:
    """SQL: the user may act on ``HumanTask`` right now (membership joined, never copied).

    Every sub-select correlates explicitly to the outer ``human_tasks`` row, so the
    predicate means the same wherever it is used (inbox, single checks, joins).
    """
    case = aliased(Case, name="candidate_case")
    by_group_or_user = (
        select(TaskCandidate.id)
        .where(
            TaskCandidate.task_id == HumanTask.id,
            or_(
                and_(
                    TaskCandidate.kind == "group",
                    exists().where(
                        Membership.group_id == TaskCandidate.group_id, Membership.user_id == user_id
                    ),
                ),
                and_(TaskCandidate.kind == "user", TaskCandidate.user_id == user_id),
                and_(  # one member, while in the group (a per-member multi-instance task)
                    TaskCandidate.kind == "member",
                    TaskCandidate.user_id == user_id,
                    exists().where(
                        Membership.group_id == TaskCandidate.group_id, Membership.user_id == user_id
                    ),
                ),
            ),
        )
        .correlate_except(TaskCandidate)
        .exists()
    )
    owner_task = (
        select(TaskCandidate.id)
        .where(TaskCandidate.task_id == HumanTask.id, TaskCandidate.kind == "owner")
        .correlate_except(TaskCandidate)
        .exists()
    )
    contact = (
        select(Contact.id)
        .where(
            Contact.user_id == user_id,
            or_(
                Contact.id == case.main_contact_id,
                select(CaseContact.case_id)
                .where(CaseContact.case_id == case.id, CaseContact.contact_id == Contact.id)
                .correlate_except(CaseContact)
                .exists(),
            ),
        )
        .correlate_except(Contact)
        .exists()
    )
    case_owner = (
        select(case.id)
        .where(case.id == HumanTask.case_id, or_(case.raiser_id == user_id, contact))
        .correlate_except(case)
        .exists()
    )
    return or_(HumanTask.assignee_id == user_id, by_group_or_user, and_(owner_task, case_owner))


# Statements on the hot path are built once (see engine/workflows.py).
_UID: BindParameter[int] = bindparam("uid")
_TASK_COLUMNS = [c for c in HumanTask.__table__.c]
_TASK_LIST = (  # read as plain rows (TaskRow): an inbox has no use for ORM bookkeeping
    select(*_TASK_COLUMNS, Case.number, Case.subject, Case.version_id)
    .join(Case, Case.id == HumanTask.case_id)
    .where(HumanTask.state == "open")
    .order_by(HumanTask.created_at, HumanTask.id)
)
_INBOX = {
    "all": Prepared(_TASK_LIST.where(eligible(_UID)).limit(bindparam("limit"))),
    "mine": Prepared(
        _TASK_LIST.where(eligible(_UID), HumanTask.claimed_by_id == _UID).limit(bindparam("limit"))
    ),
    "groups": Prepared(
        _TASK_LIST.where(eligible(_UID), HumanTask.claimed_by_id.is_(None)).limit(
            bindparam("limit")
        )
    ),
}
_CASE_TASKS = Prepared(_TASK_LIST.where(HumanTask.case_id == bindparam("case_id")))
_ELIGIBLE = Prepared(
    select(HumanTask.id).where(HumanTask.id == bindparam("task_id"), eligible(_UID))
)
_OPEN_AND_ELIGIBLE = Prepared(
    select(HumanTask.id).where(
        HumanTask.id == bindparam("task_id"), HumanTask.state == "open", eligible(_UID)
    )
)


@dataclass(frozen=True)
class InboxItem:
    task: TaskRow
    case_number: str
    case_subject: str
    version_id: int  # of the case: its routing says who the task is for and its form


_SCOPES: dict[str, Any] = {
    "all": None,
    "mine": HumanTask.claimed_by_id == _UID,
    "groups": HumanTask.claimed_by_id.is_(None),
}


def inbox(
    work: UnitOfWork,
    user: User,
    *,
    scope: str = "all",
    limit: int = 100,
    cases: ColumnElement[bool] | None = None,
) -> list[InboxItem]:
    """Open tasks the user may act on: ``mine`` (claimed), ``groups`` (unclaimed), ``all``.

    ``cases`` narrows them to the cases a condition over ``Case`` holds for: the caller's
    visibility rules (a task of a case its candidate may not see is not theirs to see).
    Without it this is the engine's own view, for trusted callers.
    """
    if cases is None:
        return _items(_INBOX[scope].rows(work.session, {"uid": user.id, "limit": limit}))
    query = _inbox_within(scope, cases)
    return _items(query.rows(work.session, {"uid": user.id, "limit": limit}))


@lru_cache(maxsize=1024)
def _inbox_within(scope: str, cases: ColumnElement[bool]) -> Prepared:
    """The inbox statement narrowed by ``cases``, built and compiled once per condition
    (callers keep their conditions, so a user's inbox is built on their first request)."""
    query = _TASK_LIST.where(eligible(_UID), cases)
    if _SCOPES[scope] is not None:
        query = query.where(_SCOPES[scope])
    return Prepared(query.limit(bindparam("limit")))


def _items(rows: list[tuple[Any, ...]]) -> list[InboxItem]:
    width = len(_TASK_COLUMNS)
    return [
        InboxItem(TaskRow(*row[:width]), row[width] or "", row[width + 1], row[width + 2])
        for row in rows
    ]


def task_row(values: tuple[Any, ...]) -> TaskRow:
    """A task read as the plain columns of ``human_tasks``, in table order."""
    return TaskRow(*values[: len(_TASK_COLUMNS)])


#: The columns of a task row in table order (what :func:`task_row` takes).
TASK_COLUMNS = tuple(_TASK_COLUMNS)


def get_task(work: UnitOfWork, task_id: int) -> HumanTask:
    task = work.session.get(HumanTask, task_id)
    if task is None:
        raise NotFound(f"no task {task_id}")
    return task


def case_tasks(work: UnitOfWork, case_id: int) -> list[InboxItem]:
    """The open tasks of one case, oldest first."""
    return _items(_CASE_TASKS.rows(work.session, {"case_id": case_id}))


@dataclass
class TaskRow:
    """A task row as read for an action: plain values, no ORM bookkeeping on the hot path."""

    id: int
    case_id: int
    engine_task_id: str
    element_id: str
    name: str
    lane: str | None
    role: str | None
    state: str
    assignee_id: int | None
    claimed_by_id: int | None
    delegated_by_id: int | None
    created_at: datetime
    due_at: datetime | None
    completed_at: datetime | None
    completed_by_id: int | None
    row_version: int


def is_eligible(work: UnitOfWork, task_id: int, user: User) -> bool:
    return _ELIGIBLE.first(work.session, {"uid": user.id, "task_id": task_id}) is not None


def may_act_now(work: UnitOfWork, task_id: int, user: User) -> bool:
    """The task is open and the user may claim or complete it (one indexed read)."""
    return _OPEN_AND_ELIGIBLE.first(work.session, {"uid": user.id, "task_id": task_id}) is not None
