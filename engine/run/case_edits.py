"""Changing a case after it opened: subject, priority, assignee, case type, collaborators,
closing with an outcome, cancelling and reopening.

These are the engine's trusted functions: they check the case's own state (open, closed,
the case type's closing policy) but not who asks; ``rules.case_acts`` asks the one access
decision first.  Every change is one conditional UPDATE on the case's row version (two
people editing the same case at once: one of them gets :class:`~engine.errors.Conflict`)
and one audit entry with what was before and what is after.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import CursorResult, bindparam, delete, select, update

from engine import audit
from engine.definitions.closing import ClosingPolicy
from engine.errors import Conflict, InvalidInput, NotFound
from engine.run import case_links, cases, child_records, workflows
from engine.run.cases import PRIORITIES
from engine.run.workflow_timers import all_tasks
from engine.runtime import UnitOfWork
from engine.store.access import CaseCollaborator
from engine.store.models import (
    Case,
    CaseType,
    CaseTypeVersion,
    Group,
    HumanTask,
    TaskCandidate,
    User,
)

_CLOSED = "closed"
_LIVE = (TaskState.READY, TaskState.WAITING, TaskState.STARTED)
CANCELLED = "cancelled"  # the outcome of a cancelled case
_POLICY = (
    select(CaseTypeVersion.config)
    .join(CaseType, CaseType.current_version_id == CaseTypeVersion.id)
    .where(CaseType.id == bindparam("type_id"))
)


def policy(work: UnitOfWork, case: Case) -> ClosingPolicy:
    """The closing policy of the case's type as deployed now (a moved case follows its new
    type; a changed policy applies to cases closed before it)."""
    config = work.session.scalar(_POLICY, {"type_id": case.case_type_id}) or {}
    return ClosingPolicy.of((config.get("case_type") or {}).get("closing"))


def _count(result: Any) -> int:
    """Rows an UPDATE or DELETE touched."""
    return result.rowcount if isinstance(result, CursorResult) else 0


def _store(work: UnitOfWork, case: Case, **values: Any) -> None:
    """One UPDATE of the case, only if nobody changed it since it was read."""
    stored = _count(
        work.session.execute(
            update(Case)
            .where(Case.id == case.id, Case.row_version == case.row_version)
            .values(**values, updated_at=work.now, row_version=case.row_version + 1)
            .execution_options(synchronize_session=False)
        )
    )
    if stored != 1:
        raise Conflict(
            f"case {case.number} was changed by someone else at the same moment; "
            "reload it and try again"
        )
    work.session.refresh(case)


def _record(
    work: UnitOfWork, case: Case, action: str, actor_id: int | None, before: Any, after: Any
) -> None:
    audit.record(
        work,
        actor_id=actor_id,
        entity="case",
        entity_id=case.number or case.id,
        case_id=case.id,
        action=action,
        before=before,
        after=after,
    )


def _open(case: Case) -> None:
    if case.status == _CLOSED:
        raise Conflict(f"case {case.number} is closed; reopen it first")


def edit(
    work: UnitOfWork,
    case: Case,
    *,
    subject: str | None = None,
    priority: str | None = None,
    actor_id: int | None,
) -> dict[str, Any]:
    """Change the subject and/or the priority; answers what changed (nothing: empty)."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if subject is not None:
        subject = subject.strip()
        if not subject:
            errors["subject"] = "is required"
        elif len(subject) > 500:
            errors["subject"] = "must be at most 500 characters"
        elif subject != case.subject:
            values["subject"] = subject
    if priority is not None:
        if priority not in PRIORITIES:
            errors["priority"] = f"must be one of {', '.join(PRIORITIES)}"
        elif priority != case.priority:
            values["priority"] = priority
    if errors:
        raise InvalidInput(f"cannot edit {case.number}", errors)
    if subject is None and priority is None:
        raise InvalidInput(
            f"cannot edit {case.number}", {"subject": "give a subject or a priority to change"}
        )
    if not values:
        return {}
    _open(case)
    before = {k: getattr(case, k) for k in values}
    # the process sees them too: they are case variables its gateways and forms may read
    live = workflows.load(work, workflows.CaseRef.of(case))
    for task in all_tasks(live.workflow):
        if task.state in _LIVE or task is live.workflow.last_task:
            task.set_data(**values)
    _record(work, case, "edited", actor_id, before, values)
    workflows.save(work, live, actor_id=actor_id, extra=values)
    work.session.refresh(case)
    return values


def _username(work: UnitOfWork, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    return work.session.scalar(select(User.username).where(User.id == user_id))


def assign(
    work: UnitOfWork, case: Case, to: User | None, *, actor_id: int | None, how: str
) -> bool:
    """Give the case to ``to`` (None: nobody); ``how`` is ``reassigned`` or ``delegated``.
    The new assignee becomes a collaborator (seed 000), and takes the old one's place on
    the child records the case type propagates it to.  False when nothing changed."""
    _open(case)
    new_id = to.id if to is not None else None
    if new_id == case.assignee_id:
        return False
    if to is not None and not to.is_active:
        raise InvalidInput(f"cannot assign {case.number}", {"to": f"{to.username} is deactivated"})
    before = {"assignee": _username(work, case.assignee_id)}
    _store(work, case, assignee_id=new_id)
    child_records.propagate_case(work, case)  # the case type's [children] switch
    if to is not None:
        add_collaborator(work, case, to, actor_id=actor_id, audited=False)
    action = how if to is not None else "unassigned"
    _record(work, case, action, actor_id, before, {"assignee": to.username if to else None})
    return True


def move(work: UnitOfWork, case: Case, type_key: str, *, actor_id: int | None) -> str:
    """Move the case to another case type: who may see and work it follows the new type at
    once.  The case keeps its number and goes on running the process it started with."""
    target = work.session.scalar(select(CaseType).where(CaseType.key == type_key))
    if target is None:
        raise NotFound(f"no case type '{type_key}'")
    if target.id == case.case_type_id:
        raise InvalidInput(f"cannot move {case.number}", {"type": f"it already is {type_key}"})
    old = work.session.scalar(select(CaseType.key).where(CaseType.id == case.case_type_id))
    _store(work, case, case_type_id=target.id)
    rerouted = _reroute_open_tasks(work, case, target)
    child_records.propagate_case(work, case)  # the new type's [children] switch counts
    _record(work, case, "moved", actor_id, {"type": old}, {"type": type_key, "tasks": rerouted})
    return type_key


def _reroute_open_tasks(work: UnitOfWork, case: Case, target: CaseType) -> int:
    """The case's open tasks go to the groups the new type gives their role (a manager's
    task to its managers, ...), their claims are released: nobody keeps work on a case
    only the old type let them see.  Owner tasks stay with the owner."""
    config = work.session.scalar(
        select(CaseTypeVersion.config).where(CaseTypeVersion.id == target.current_version_id)
    )
    roles: dict[str, list[str]] = ((config or {}).get("case_type") or {}).get("roles") or {}
    tasks = work.session.scalars(
        select(HumanTask).where(
            HumanTask.case_id == case.id,
            HumanTask.state == "open",
            HumanTask.role.is_not(None),
            HumanTask.role != "owner",
        )
    ).all()
    for task in tasks:
        names = roles.get(task.role or "", [])
        groups = work.session.scalars(select(Group.id).where(Group.name.in_(names))).all()
        work.session.execute(
            delete(TaskCandidate).where(
                TaskCandidate.task_id == task.id, TaskCandidate.kind.in_(("group", "member"))
            )
        )
        work.session.add_all(
            TaskCandidate(task_id=task.id, kind="group", group_id=g, user_id=None) for g in groups
        )
        task.claimed_by_id = None
        task.row_version += 1
    work.session.flush()
    return len(tasks)


def close(work: UnitOfWork, case: Case, *, outcome: str, actor_id: int | None) -> Case:
    """Close the case with an outcome (one of the type's ``[closing] outcomes`` when it
    lists them); refused while tasks are open, as closing always is."""
    outcome = outcome.strip() or "solved"
    allowed = policy(work, case).outcomes
    if outcome == CANCELLED or (allowed and outcome not in allowed):
        choices = ", ".join(allowed) if allowed else "any text but 'cancelled'"
        raise InvalidInput(f"cannot close {case.number}", {"outcome": f"one of: {choices}"})
    if len(outcome) > 200:
        raise InvalidInput(f"cannot close {case.number}", {"outcome": "at most 200 characters"})
    closed = cases.close_case(work, number=case.number or "", actor_id=actor_id, reason=outcome)
    _store(work, closed, outcome=outcome)
    return closed


def cancel(work: UnitOfWork, case: Case, *, reason: str, actor_id: int | None) -> Case:
    """Withdraw the case: its open tasks are cancelled and it closes with the outcome
    ``cancelled`` (closing by hand would wait for the tasks)."""
    _open(case)
    live = workflows.load(work, workflows.CaseRef.of(case))
    live.workflow.cancel()
    _record(
        work,
        case,
        "cancelled",
        actor_id,
        {"status": case.status},
        {"status": _CLOSED, "outcome": CANCELLED, "reason": reason or "cancelled by hand"},
    )
    workflows.save(
        work,
        live,
        actor_id=actor_id,
        extra={"status": _CLOSED, "closed_at": work.now, "outcome": CANCELLED},
    )
    work.session.refresh(case)
    return case


def reopen(work: UnitOfWork, case: Case, *, actor_id: int | None, by: str = "hand") -> Case:
    """Open a closed case again, if its type's policy still allows it (the grace period).
    The process it ran stays finished: a reopened case is worked in its stream and closed
    (or cancelled) by hand."""
    if case.status != _CLOSED:
        raise Conflict(f"case {case.number} is not closed")
    went = case_links.merged_into(work, case.id)
    if went is not None:  # its stream and its mail are the other case's now
        into = work.session.get(Case, went)
        raise Conflict(f"case {case.number} was merged into {into.number if into else '?'}")
    rules = policy(work, case)
    if not rules.reopenable(case.closed_at, work.now):
        raise Conflict(f"case {case.number} cannot be reopened: {rules.why_final()}")
    before = {"status": case.status, "outcome": case.outcome}
    _store(work, case, status="open", closed_at=None, outcome=None)
    _record(work, case, "reopened", actor_id, before, {"status": "open", "by": by})
    return case


def collaborators(work: UnitOfWork, case_id: int) -> list[str]:
    """Usernames of the case's collaborators, sorted."""
    return sorted(
        work.session.scalars(
            select(User.username)
            .join(CaseCollaborator, CaseCollaborator.user_id == User.id)
            .where(CaseCollaborator.case_id == case_id)
        )
    )


def add_collaborator(
    work: UnitOfWork, case: Case, user: User, *, actor_id: int | None, audited: bool = True
) -> bool:
    """Make ``user`` a collaborator; False when they already were."""
    if work.session.get(CaseCollaborator, (case.id, user.id)) is not None:
        return False
    work.session.add(CaseCollaborator(case_id=case.id, user_id=user.id))
    work.session.flush()
    if audited:
        _record(work, case, "collaborator_added", actor_id, None, {"user": user.username})
    return True


def remove_collaborator(work: UnitOfWork, case: Case, user: User, *, actor_id: int | None) -> bool:
    """Remove a collaborator (not the assignee: assign the case to someone else first);
    False when they were not one."""
    if user.id == case.assignee_id:
        raise Conflict(
            f"{user.username} is the assignee of {case.number}; assign it to someone else first"
        )
    gone = _count(
        work.session.execute(
            delete(CaseCollaborator).where(
                CaseCollaborator.case_id == case.id, CaseCollaborator.user_id == user.id
            )
        )
    )
    if gone:
        _record(work, case, "collaborator_removed", actor_id, {"user": user.username}, None)
    return bool(gone)
