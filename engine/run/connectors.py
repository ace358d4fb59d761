"""Running connector service tasks: a durable job per waiting task, retried with back-off.

When a case reaches a service task that names a connector (``engine.definitions.
connectors``), the task waits and a ``timers`` row with source ``connector`` is written in
the same transaction, due at once.  The worker's sweep takes each due row in three steps,
so a slow or failing connector never holds a transaction or a lock:

1. claim the row (it is leased for :data:`LEASE`), read the inputs from the case and check
   them against the connector's declared types;
2. call the connector, outside any transaction;
3. on success set its results as process variables and run the case on, in one
   transaction (as if someone had completed the task); on failure push the row back by the
   connector's back-off (doubling each time) or, when retries are used up or the failure is
   permanent, mark it failed, note why in the case's history and open an incident on the
   case for its managers (a connector not installed, a Java implementation Casework
   cannot run); retrying the incident puts the job back for the next sweep.

Meanwhile the case is consistent: its service task simply waits, as a task waits in an
inbox, and every other action on the case goes on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

from SpiffWorkflow.task import Task as SpiffTask
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select, update

from engine import audit, log_context
from engine.definitions.connectors import (
    CANNOT_RUN,
    EXTENSION,
    Connector,
    PermanentFailure,
    check_inputs,
    registered,
)
from engine.errors import CaseworkError, Conflict, ProcessError
from engine.run import incidents, workflows
from engine.run.cases import check_process_data
from engine.run.connector_jobs import SOURCE
from engine.runtime import Runtime, UnitOfWork
from engine.store.models import TIMER_IS_WAITING, Timer

log = logging.getLogger(__name__)
#: How long a claimed job is left to its worker before another may take it.
LEASE = timedelta(minutes=5)
#: The longest wait between two attempts.
MAX_BACKOFF = timedelta(hours=6)


def due(work: UnitOfWork, *, limit: int = 100) -> list[int]:
    """Ids of due connector jobs, earliest first (read only)."""
    query = (
        select(Timer.id)
        .where(TIMER_IS_WAITING, Timer.source == SOURCE, Timer.due_at <= work.now)
        .order_by(Timer.due_at)
        .limit(limit)
    )
    return list(work.session.scalars(query))


@dataclass(frozen=True)
class _Claimed:
    job_id: int
    case_id: int
    engine_id: str
    attempts: int
    name: str
    connector: Connector
    inputs: Any


class _Failed(Exception):
    """A job that cannot run; ``permanent`` ones are not retried."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.permanent = permanent


def run_job(runtime: Runtime, job_id: int) -> str | None:
    """Run one due job; the number of the case it advanced, or None."""
    try:
        with runtime.unit() as work:
            claimed = _claim(work, job_id)
    except _Failed as exc:
        _give_up(runtime, job_id, str(exc))
        return None
    if claimed is None:
        return None
    try:
        result = dict(claimed.connector.call(claimed.inputs))
    except PermanentFailure as exc:
        _give_up(runtime, job_id, f"{claimed.name}: {exc}")
        return None
    except Exception as exc:
        reason = f"{claimed.name}: {type(exc).__name__}: {exc}"
        if claimed.attempts >= claimed.connector.retries:
            _give_up(runtime, job_id, f"{reason} (after {claimed.attempts} attempts)")
        else:
            _retry(runtime, claimed, reason)
        return None
    try:
        with runtime.unit() as work:
            return _apply(work, claimed, result)
    except Conflict:
        return None  # the case changed meanwhile: the lease runs out, the job runs again
    except (CaseworkError, _Failed) as exc:
        _give_up(runtime, job_id, f"{claimed.name}: {exc}")
        return None


def _claim(work: UnitOfWork, job_id: int) -> _Claimed | None:
    row = work.session.execute(
        update(Timer)
        .where(Timer.id == job_id, Timer.state == "waiting", Timer.due_at <= work.now)
        .values(due_at=work.now + LEASE, attempts=Timer.attempts + 1)
        .returning(Timer.case_id, Timer.name, Timer.attempts)
        .execution_options(synchronize_session=False)
    ).first()
    if row is None:
        return None  # another worker has it
    case_id, name, attempts = row
    task = _waiting_task(work, case_id, name.split(":", 1)[1])
    if task is None:
        _settle(work, job_id, "cancelled")
        return None
    extension = (task.task_spec.extensions or {}).get(EXTENSION)
    if extension is None:  # migrated onto a version where a person does it
        _settle(work, job_id, "cancelled")
        return None
    if extension.get("java"):
        raise _Failed(
            f"service task calls {extension['name']}, {CANNOT_RUN}; declare it a manual step "
            "([manual_steps] in the TOML), deploy, migrate the case, then retry",
            permanent=True,
        )
    connector = registered().get(extension["name"])
    if connector is None:
        raise _Failed(f"connector '{extension['name']}' is not installed", permanent=True)
    values = {k: v for k, v in task.data.items() if not k.startswith("_")}
    for field, expression in extension["inputs"].items():
        try:
            values[field] = task.workflow.script_engine.evaluate(task, expression)
        except Exception as exc:
            raise _Failed(f"input '{field}' {expression!r}: {exc}", permanent=True) from exc
    try:
        inputs = check_inputs(connector, values)
    except ValueError as exc:
        raise _Failed(f"{extension['name']}: inputs refused: {exc}", permanent=True) from exc
    return _Claimed(job_id, case_id, str(task.id), attempts, extension["name"], connector, inputs)


def _waiting_task(work: UnitOfWork, case_id: int, engine_id: str) -> SpiffTask | None:
    """The case's connector task, if the case is open and the task still waits."""
    ref = workflows.case_ref(work, case_id)
    if ref is None or ref.status != "open":
        return None
    live = workflows.load(work, ref)
    task = live.workflow.get_task_from_id(UUID(engine_id))
    return task if task is not None and task.state == TaskState.READY else None


def _apply(work: UnitOfWork, claimed: _Claimed, result: dict[str, Any]) -> str | None:
    ref = workflows.case_ref(work, claimed.case_id)
    if ref is None or ref.status != "open":
        _settle(work, claimed.job_id, "cancelled")
        return None
    live = workflows.load(work, ref)
    task = live.workflow.get_task_from_id(UUID(claimed.engine_id))
    if task is None or task.state != TaskState.READY:
        _settle(work, claimed.job_id, "cancelled")
        return None
    values = check_process_data(result)
    task.set_data(**values)
    live.settled.add(claimed.engine_id)
    workflows.run(work, live, completing=task)
    workflows.save(work, live, actor_id=None)
    _settle(work, claimed.job_id, "fired")
    audit.record(
        work,
        actor_id=None,
        entity="case",
        entity_id=ref.number,
        case_id=ref.id,
        action="connector_ran",
        after={"task": task.task_spec.bpmn_name or task.task_spec.bpmn_id, **values},
    )
    return ref.number


def _settle(work: UnitOfWork, job_id: int, state: str) -> None:
    work.session.execute(
        update(Timer)
        .where(Timer.id == job_id)
        .values(state=state, fired_at=work.now)
        .execution_options(synchronize_session=False)
    )


def _retry(runtime: Runtime, claimed: _Claimed, reason: str) -> None:
    wait = min(claimed.connector.backoff * 2 ** (claimed.attempts - 1), MAX_BACKOFF)
    log.warning("connector job %s failed (%s); retrying in %s", claimed.job_id, reason, wait)
    with runtime.unit() as work:
        work.session.execute(
            update(Timer)
            .where(Timer.id == claimed.job_id, Timer.state == "waiting")
            .values(due_at=work.now + wait, last_error=reason[:4000])
            .execution_options(synchronize_session=False)
        )


def _give_up(runtime: Runtime, job_id: int, reason: str) -> None:
    """Mark the job failed, say why in the case's history and open an incident on the case
    (retrying it re-arms the job); the task keeps waiting."""
    with runtime.unit() as work:
        case_id, name = work.session.execute(
            select(Timer.case_id, Timer.name).where(Timer.id == job_id)
        ).one()
        _settle(work, job_id, "failed")
        work.session.execute(  # kept on the row for ``run.py jobs failed`` and the admin page
            update(Timer)
            .where(Timer.id == job_id)
            .values(last_error=reason[:4000])
            .execution_options(synchronize_session=False)
        )
        ref = workflows.case_ref(work, case_id) if case_id is not None else None
        if ref is None:
            log.error("connector job %s failed for good: %s", job_id, reason)
            return
        audit.record(
            work,
            actor_id=None,
            entity="case",
            entity_id=ref.number,
            case_id=ref.id,
            action="connector_failed",
            after={"reason": reason},
        )
        element_id = name.split(":", 1)[0]
        failed = ProcessError(reason, case=ref.number, element_id=element_id)
        failed.attempt = {"kind": "connector", "job": job_id}
        incidents.record(work, failed)
        log.error("%s: connector step %s failed for good: %s; incident %s",
                  ref.number, element_id, reason, failed.incident)  # fmt: skip


def rearm(work: UnitOfWork, job_id: int) -> None:
    """Put a failed job back, due now, with its attempts counted afresh (an incident's
    retry: the connector was installed, or the case migrated to a manual step)."""
    work.session.execute(
        update(Timer)
        .where(Timer.id == job_id, Timer.state == "failed")
        .values(state="waiting", due_at=work.now, attempts=0, fired_at=None)
        .execution_options(synchronize_session=False)
    )


def run_jobs(runtime: Runtime, jobs: list[int]) -> list[str]:
    """Run due connector jobs (from :func:`due`), each on its own; the cases advanced."""
    advanced = []
    for job_id in jobs:
        try:
            with log_context.scope():
                number = run_job(runtime, job_id)
        except Exception:
            log.exception("connector job %s failed unexpectedly; it runs again later", job_id)
            continue
        if number:
            advanced.append(number)
    return advanced
