"""What agents do with tasks: claim, release, reassign, delegate, complete.

Every action reads its task together with whether the acting user may act on it
(:func:`engine.run.task_queries.eligible`, the predicate the inbox uses too) in one query, and
changes the row only if it is still as read (its row version), so two agents acting at
the same moment cannot both win.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from uuid import UUID

from SpiffWorkflow.exceptions import TaskNotFoundException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import BindParameter, bindparam, select, update

from engine import audit
from engine.definitions.forms import validate_form
from engine.errors import Conflict, Forbidden, NotFound
from engine.run import workflows
from engine.run.cases import check_process_data
from engine.run.task_queries import TASK_COLUMNS, TaskRow, eligible, is_eligible
from engine.runtime import UnitOfWork
from engine.store.fast import Prepared
from engine.store.models import Case, Group, HumanTask, TaskCandidate, User

# Statements on the hot path are built once (see engine/run/workflows.py).
_UID: BindParameter[int] = bindparam("uid")
_TARGET = Prepared(
    select(
        *TASK_COLUMNS,
        eligible(_UID).label("allowed"),
        Case.number,
        Case.version_id,
        Case.row_version,
        Case.status,
        *workflows.SKIPPABLE,
    )
    .join(Case, Case.id == HumanTask.case_id)
    .where(HumanTask.id == bindparam("task_id"))
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


@dataclass
class _Target:
    """A task about to be acted on, with the acting user's eligibility and its case."""

    task: TaskRow
    allowed: bool
    case: workflows.CaseRef


def _target(work: UnitOfWork, task_id: int, user: User) -> _Target:
    """Read the task, whether ``user`` may act on it, and its case, in one query."""
    values = _TARGET.first(work.session, {"uid": user.id, "task_id": task_id})
    if values is None:
        raise NotFound(f"no task {task_id}")
    task = TaskRow(*values[: len(TASK_COLUMNS)])
    allowed, *case = values[len(TASK_COLUMNS) :]
    if task.state != "open":
        raise Conflict(f"task {task_id} is already {task.state}")
    return _Target(task, bool(allowed), workflows.CaseRef.from_row([task.case_id, *case]))


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
