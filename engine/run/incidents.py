"""Incidents: a process step that failed on a case, kept until someone retries it.

A failing gateway condition, script, timer value or message catch raises
:class:`~engine.errors.ProcessError` inside a unit of work; the unit rolls back, so the
case stays exactly as it was.  :meth:`Runtime.unit <engine.runtime.Runtime.unit>` then
hands the error to :func:`record_failure`, which stores (in a transaction of its own) an
incident naming the case, the element, the expression or script line, the reason and the
action to replay -- the one the failing command attempted (:func:`attempt` says which) or,
by default, "run the case on" (what the timer worker does).  A second failure of the same
step adds an attempt to the open incident instead of a new row.

:func:`retry` replays the action once the process is fixed (deploy a corrected version,
``run.py migrate`` the case onto it): it resolves the incident when the step now passes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from engine import audit
from engine.errors import Conflict, NotFound, ProcessError
from engine.store.events import Incident
from engine.store.models import Case, CaseType, User

if TYPE_CHECKING:
    from engine.runtime import Runtime, UnitOfWork

#: the default action: run the case on (what the timer worker does)
RUN = {"kind": "run"}


@contextmanager
def attempt(kind: str, **action: Any) -> Iterator[None]:
    """Name the action a failure inside this block would replay on retry (JSON values):
    the :class:`ProcessError` leaving it carries it to :func:`record_failure` (an inner
    block's action wins; an outer one adds what it lacks, e.g. the incident retried)."""
    try:
        yield
    except ProcessError as exc:
        exc.attempt = {"kind": kind, **action, **(exc.attempt or {})}
        raise


def record_failure(runtime: Runtime, exc: ProcessError) -> None:
    """Store the incident of a failed step whose unit rolled back, in a unit of its own."""
    if exc.case or (exc.attempt or {}).get("incident"):
        with runtime.unit() as work:
            record(work, exc)


def record(work: UnitOfWork, exc: ProcessError) -> None:
    """Store the incident of a failed step on an existing case (opening a case that fails
    leaves no case to hold one) in this unit; sets ``exc.incident`` to its id.  For a
    caller that goes on after the failure (a mail reply is posted all the same)."""
    action = dict(exc.attempt or RUN)
    known_id = action.pop("incident", None)
    case_id = work.session.scalar(select(Case.id).where(Case.number == exc.case))
    if case_id is None and not known_id:
        return
    known = (
        work.session.get(Incident, known_id)
        if known_id
        else work.session.scalars(
            select(Incident).where(
                Incident.case_id == case_id,
                Incident.state == "open",
                Incident.element_id == exc.element_id,
            )
        ).first()
    )
    if known is not None:
        if known.state != "open":
            return
        known.attempts += 1
        known.reason, known.code, known.line = exc.reason, exc.code, exc.line
        known.action = action
        exc.incident = known.id
        return
    row = Incident(
        case_id=case_id,
        state="open",
        element_id=exc.element_id,
        element_name=exc.element_name,
        code=exc.code,
        line=exc.line,
        reason=exc.reason,
        action=action,
        actor_id=action.get("actor_id"),
        created_at=work.now,
        attempts=1,
    )
    work.session.add(row)
    work.session.flush()  # no audit entry: the incident row is the record itself
    exc.incident = row.id


def record_for_type(
    work: UnitOfWork,
    case_type_id: int,
    *,
    element_id: str,
    element_name: str | None,
    reason: str,
    action: dict[str, Any],
    code: str | None = None,
    line: int | None = None,
) -> tuple[Incident, bool]:
    """The open incident of a case type's start event (no case could hold it), created
    unless one is open for the same event and action; answers it and whether it is new."""
    for known in work.session.scalars(
        select(Incident).where(
            Incident.case_type_id == case_type_id,
            Incident.state == "open",
            Incident.element_id == element_id,
        )
    ):
        if known.action == action:
            return known, False
    row = Incident(
        case_type_id=case_type_id,
        state="open",
        element_id=element_id,
        element_name=element_name,
        code=code,
        line=line,
        reason=reason,
        action=action,
        created_at=work.now,
        attempts=1,
    )
    work.session.add(row)
    work.session.flush()
    return row, True


def open_incidents(
    work: UnitOfWork, *, case_id: int | None = None, limit: int = 500
) -> list[Incident]:
    """Open incidents, oldest first (of one case, or of all: cases' and case types')."""
    query = select(Incident).where(Incident.state == "open")
    if case_id is not None:
        query = query.where(Incident.case_id == case_id)
    return list(work.session.scalars(query.order_by(Incident.id).limit(limit)))


def get(work: UnitOfWork, incident_id: int) -> Incident:
    row = work.session.get(Incident, incident_id)
    if row is None:
        raise NotFound(f"no incident {incident_id}")
    return row


def describe(work: UnitOfWork, row: Incident) -> dict[str, Any]:
    """An incident as the CLI and the API show it (``case`` empty for a case type's)."""
    number = None
    type_id = row.case_type_id
    if row.case_id is not None:
        number, type_id = work.session.execute(
            select(Case.number, Case.case_type_id).where(Case.id == row.case_id)
        ).one()
    return {
        "id": row.id,
        "case": number,
        "case_type": work.session.scalar(select(CaseType.key).where(CaseType.id == type_id)),
        "state": row.state,
        "element_id": row.element_id,
        "element_name": row.element_name,
        "code": row.code,
        "line": row.line,
        "reason": row.reason,
        "action": row.action.get("kind", "run"),
        "attempts": row.attempts,
        "created_at": row.created_at,
        "resolved_at": row.resolved_at,
    }


def retry(work: UnitOfWork, row: Incident, *, actor: User | None) -> str:
    """Replay the incident's action on its case as it is now (after a deploy and a
    migrate); resolve it when that passes.  A step that fails again raises
    :class:`ProcessError` and the incident counts another attempt.  ``actor`` None: the
    operator at the command line."""
    from engine.run import messages, task_queries, tasks, workflows

    if row.state != "open":
        raise Conflict(f"incident {row.id} is already resolved")
    action = dict(row.action)
    kind = action.get("kind", "run")
    if row.case_id is None:  # a case type's start event: open the case now
        from engine.run import start_events

        with attempt(kind, incident=row.id, **{k: v for k, v in action.items() if k != "kind"}):
            number = start_events.retry(work, row)
        _resolve(work, row, actor)
        return number
    case = work.session.get(Case, row.case_id)
    assert case is not None
    with attempt(kind, incident=row.id, **{k: v for k, v in action.items() if k != "kind"}):
        if case.status != "open":
            pass  # closed since (by hand): nothing is left to run
        elif kind == "complete":
            user = work.session.get(User, action["user_id"])
            if user is None:
                raise Conflict(f"the user who completed the task of incident {row.id} is gone")
            open_now = task_queries.get_task(work, action["task_id"]).state == "open"
            if open_now:
                tasks.complete(work, task_id=action["task_id"], user=user, data=action.get("data"))
        elif kind == "connector":  # the worker runs it again on its next sweep
            from engine.run import connectors

            connectors.rearm(work, int(action["job"]))
        elif kind == "message":
            messages.deliver(
                work,
                case,
                action["event"],
                action["name"],
                action.get("data") or {},
                actor_id=action.get("actor_id"),
            )
        else:
            ref = workflows.case_ref(work, case.id)
            assert ref is not None
            live = workflows.load(work, ref)
            workflows.run(work, live, refresh_timers=True)
            workflows.save(work, live, actor_id=actor.id if actor else None)
    _resolve(work, row, actor)
    audit.record(
        work,
        actor_id=actor.id if actor else None,
        entity="case",
        entity_id=case.number or case.id,
        case_id=case.id,
        action="incident_resolved",
        after={"incident": row.id, "by": "retry"},
    )
    return case.number or ""


def _resolve(work: UnitOfWork, row: Incident, actor: User | None) -> None:
    resolved = work.session.execute(
        update(Incident)
        .where(Incident.id == row.id, Incident.state == "open")
        .values(state="resolved", resolved_at=work.now, resolved_by_id=actor.id if actor else None)
        .execution_options(synchronize_session=False)
    )
    if resolved.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"incident {row.id} was resolved by someone else at the same moment")
    work.session.refresh(row)
