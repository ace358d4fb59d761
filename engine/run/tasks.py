"""The task inbox and what agents do with tasks: claim, release, reassign, delegate, complete.

Who may act is decided by one SQL predicate, :func:`eligible`, evaluated at the
moment of asking: membership is joined, never copied, so adding a user to a group
shows them every open task of that group and removing them hides those tasks again.
The same predicate filters the inbox and guards every action.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any
from uuid import UUID

from SpiffWorkflow.exceptions import TaskNotFoundException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    and_,
    bindparam,
    exists,
    or_,
    select,
    update,
)
from sqlalchemy.orm import aliased

from engine import audit
from engine.definitions.forms import validate_form
from engine.errors import Conflict, Forbidden, NotFound
from engine.run import workflows
from engine.run.cases import check_process_data
from engine.runtime import UnitOfWork
from engine.store.fast import Prepared
from engine.store.models import (
    Case,
    CaseContact,
    Contact,
    Group,
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
_TARGET = Prepared(
    select(
        *_TASK_COLUMNS,
        eligible(_UID).label("allowed"),
        Case.number,
        Case.version_id,
        Case.row_version,
        Case.status,
    )
    .join(Case, Case.id == HumanTask.case_id)
    .where(HumanTask.id == bindparam("task_id"))
)
_ELIGIBLE = Prepared(
    select(HumanTask.id).where(HumanTask.id == bindparam("task_id"), eligible(_UID))
)
_OPEN_AND_ELIGIBLE = Prepared(
    select(HumanTask.id).where(
        HumanTask.id == bindparam("task_id"), HumanTask.state == "open", eligible(_UID)
    )
)
_TASKS = HumanTask.__table__


@lru_cache(maxsize=32)
def _change_statement(columns: frozenset[str]) -> Prepared:
    """``UPDATE human_tasks SET <columns> WHERE id, state open and row_version as read``."""
    return Prepared(
        update(_TASKS)
        .where(
            _TASKS.c.id == bindparam("task_id"),
            _TASKS.c.state == "open",
            _TASKS.c.row_version == bindparam("expected"),
        )
        .values({name: bindparam(f"v_{name}") for name in sorted(columns)})
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
class _Target:
    """A task about to be acted on, with the acting user's eligibility and its case."""

    task: TaskRow
    allowed: bool
    case: workflows.CaseRef


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


def _target(work: UnitOfWork, task_id: int, user: User) -> _Target:
    """Read the task, whether ``user`` may act on it, and its case, in one query."""
    values = _TARGET.first(work.session, {"uid": user.id, "task_id": task_id})
    if values is None:
        raise NotFound(f"no task {task_id}")
    task = TaskRow(*values[: len(_TASK_COLUMNS)])
    allowed, number, version_id, row_version, status = values[len(_TASK_COLUMNS) :]
    if task.state != "open":
        raise Conflict(f"task {task_id} is already {task.state}")
    return _Target(
        task,
        bool(allowed),
        workflows.CaseRef(task.case_id, number, version_id, row_version, status),
    )


def is_eligible(work: UnitOfWork, task_id: int, user: User) -> bool:
    return _ELIGIBLE.first(work.session, {"uid": user.id, "task_id": task_id}) is not None


def may_act_now(work: UnitOfWork, task_id: int, user: User) -> bool:
    """The task is open and the user may claim or complete it (one indexed read)."""
    return _OPEN_AND_ELIGIBLE.first(work.session, {"uid": user.id, "task_id": task_id}) is not None


def _require(work: UnitOfWork, target: _Target, user: User) -> None:
    if not target.allowed:
        who = ", ".join(sorted(_candidate_names(work, target.task.id))) or "nobody"
        raise Forbidden(
            f"{user.username} may not act on task {target.task.id} "
            f"'{target.task.name}': it is for {who}"
        )


def _candidate_names(work: UnitOfWork, task_id: int) -> set[str]:
    rows = work.session.execute(
        select(TaskCandidate.kind, Group.name, User.username)
        .outerjoin(Group, Group.id == TaskCandidate.group_id)
        .outerjoin(User, User.id == TaskCandidate.user_id)
        .where(TaskCandidate.task_id == task_id)
    ).all()
    names = {f"group {g}" for kind, g, _ in rows if kind == "group"}
    names |= {f"user {u}" for kind, _, u in rows if kind == "user"}
    names |= {f"user {u} while in group {g}" for kind, g, u in rows if kind == "member"}
    if any(kind == "owner" for kind, _, _ in rows):
        names.add("the case's owner")
    return names


def _change(work: UnitOfWork, task: TaskRow, values: dict[str, Any]) -> None:
    """Conditional UPDATE: applies only if the task is still as we read it."""
    values = {**values, "row_version": task.row_version + 1}
    stored = (
        _change_statement(frozenset(values))
        .execute(
            work.session,
            {
                "task_id": task.id,
                "expected": task.row_version,
                **{f"v_{name}": value for name, value in values.items()},
            },
        )
        .rowcount
    )
    if stored != 1:
        raise Conflict(
            f"task {task.id} was changed by someone else at the same moment; "
            "reload it and try again"
        )
    for key, value in values.items():
        setattr(task, key, value)


def _audit(
    work: UnitOfWork,
    task: TaskRow,
    actor: User,
    action: str,
    before: dict[str, Any],
    after: dict[str, Any],
) -> None:
    audit.record(
        work,
        actor_id=actor.id,
        entity="task",
        entity_id=task.id,
        case_id=task.case_id,
        action=action,
        before=before,
        after=after,
    )


def _holder(work: UnitOfWork, user_id: int) -> str:
    return work.session.scalar(select(User.username).where(User.id == user_id)) or "?"


def claim(work: UnitOfWork, *, task_id: int, user: User) -> TaskRow:
    """Take a task so nobody else works on it; refused if someone else holds it."""
    target = _target(work, task_id, user)
    _require(work, target, user)
    task = target.task
    if task.claimed_by_id == user.id:
        return task
    if task.claimed_by_id is not None:
        raise Conflict(f"task {task_id} is already claimed by {_holder(work, task.claimed_by_id)}")
    _change(work, task, {"claimed_by_id": user.id})
    _audit(work, task, user, "claimed", {"claimed_by": None}, {"claimed_by": user.username})
    return task


def release(work: UnitOfWork, *, task_id: int, user: User) -> TaskRow:
    """Give a claimed task back; a delegated task goes back to whoever delegated it."""
    target = _target(work, task_id, user)
    task = target.task
    if task.claimed_by_id != user.id and not user.is_admin:
        raise Forbidden(f"task {task_id} is not claimed by {user.username}")
    back_to = task.delegated_by_id
    _change(work, task, {"claimed_by_id": back_to, "delegated_by_id": None})
    _audit(
        work,
        task,
        user,
        "released",
        {"claimed_by": user.username},
        {"claimed_by": _holder(work, back_to) if back_to else None},
    )
    return task


def _hand_over(work: UnitOfWork, task_id: int, actor: User, to: User, action: str) -> TaskRow:
    target = _target(work, task_id, actor)
    if not actor.is_admin:
        _require(work, target, actor)
    task = target.task
    if action == "delegated" and task.claimed_by_id != actor.id:
        raise Forbidden(f"only the holder of task {task_id} may delegate it; claim it first")
    if not is_eligible(work, task_id, to):
        raise Forbidden(
            f"{to.username} may not act on task {task_id} '{task.name}': it is for "
            + (", ".join(sorted(_candidate_names(work, task_id))) or "nobody")
        )
    before = {"claimed_by": _holder(work, task.claimed_by_id) if task.claimed_by_id else None}
    _change(
        work,
        task,
        {"claimed_by_id": to.id, "delegated_by_id": actor.id if action == "delegated" else None},
    )
    _audit(work, task, actor, action, before, {"claimed_by": to.username})
    return task


def reassign(work: UnitOfWork, *, task_id: int, actor: User, to: User) -> TaskRow:
    """Hand a task to another candidate (who must be allowed to act on it)."""
    return _hand_over(work, task_id, actor, to, "reassigned")


def delegate(work: UnitOfWork, *, task_id: int, actor: User, to: User) -> TaskRow:
    """Let another candidate work a task you hold; releasing it brings it back to you."""
    return _hand_over(work, task_id, actor, to, "delegated")


@dataclass(frozen=True)
class Completion:
    """What completing a task answers: the task, its case's status and the tasks now waiting."""

    task: TaskRow
    case_status: str
    new_task_ids: list[int]


def complete(
    work: UnitOfWork, *, task_id: int, user: User, data: dict[str, Any] | None = None
) -> Completion:
    """Complete a task with form data and run the process on, in one transaction.

    The data is checked against the task's form first (all bad fields reported at
    once, nothing stored).  If another agent completes the same task at the same
    moment, exactly one succeeds; the other gets :class:`Conflict`.
    """
    target = _target(work, task_id, user)
    _require(work, target, user)
    task = target.task
    if task.claimed_by_id is not None and task.claimed_by_id != user.id:
        raise Conflict(
            f"task {task_id} is claimed by {_holder(work, task.claimed_by_id)}; "
            "ask them to release it or reassign it"
        )
    version = work.runtime.version(work.session, target.case.version_id)
    route = version.routing[task.element_id]
    values = (
        validate_form(list(route.form), data or {})
        if route.form
        else check_process_data(data or {})
    )
    _change(
        work,
        task,
        {
            "state": "completed",
            "completed_at": work.now,
            "completed_by_id": user.id,
            "claimed_by_id": user.id,
        },
    )
    live = workflows.load(work, target.case)
    workflow = live.workflow
    try:
        engine_task = workflow.get_task_from_id(UUID(task.engine_task_id))
    except TaskNotFoundException:
        engine_task = None
    if engine_task is None or engine_task.state != TaskState.READY:
        raise Conflict(f"task {task_id} is no longer waiting in the process")
    engine_task.set_data(**values)
    live.settled.add(task.engine_task_id)
    workflows.run(work, live, completing=engine_task)
    _audit(work, task, user, "completed", {"state": "open"}, {"state": "completed", "data": values})
    created = workflows.save(work, live, actor_id=user.id)
    return Completion(task, live.ref.status, created)
