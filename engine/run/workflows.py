"""Loading, running and saving a case's workflow; mirroring its human tasks as rows.

This is the only module that touches live ``BpmnWorkflow`` objects.  After every
engine step :func:`save` brings the database in line with the workflow: the state
blob, the earliest timer due time, open task rows (created for newly READY human
tasks, cancelled when the engine cancelled them) and the case status.

The save is a conditional UPDATE on the case's row version, so of two transactions
that advanced the same case from the same state exactly one is stored; the other
gets :class:`~engine.errors.Conflict`.  These are the hottest statements of the
product, so they are written as single SQL statements rather than ORM flushes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.task import Task as SpiffTask
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, or_, select, update

from engine import audit, log_context
from engine.clock import engine_time
from engine.definitions.routing import TaskRouting
from engine.errors import Conflict
from engine.run import call_activities
from engine.run.connector_jobs import sync_jobs
from engine.run.multi_instance import forget_instance_item, insert_member
from engine.run.process_errors import process_error
from engine.run.schedules import prime_timer_starts
from engine.run.sla_timers import FiredTimer, breached
from engine.run.waits import wait_columns
from engine.run.workflow_timers import (
    FixedNow,
    WaitingTimer,
    all_tasks,
    next_timer_due,
    waiting_timers,
)
from engine.runtime import CaseInfo, LoadedVersion, UnitOfWork
from engine.sandbox.environment import make_script_engine
from engine.sla import clocks as sla_clocks
from engine.sla import facts as sla_facts
from engine.store.fast import Prepared, prepared_insert
from engine.store.models import Case, HumanTask, TaskCandidate, Timer

# Statements on the hot path are built once: building a SQLAlchemy statement costs
# far more than executing a cached one.
_CASES, _TASKS = Case.__table__, HumanTask.__table__
#: the columns a save writes only when their value changed (see ``CaseRef.stored``)
SKIPPABLE = (Case.next_timer_due, Case.waits_for, Case.correlation_key)
_CASE_REF = Prepared(
    select(Case.id, Case.number, Case.version_id, Case.row_version, Case.status, *SKIPPABLE).where(
        Case.id == bindparam("case_id")
    )
)
_CASE_STATE = Prepared(select(Case.workflow_state).where(Case.id == bindparam("case_id")))
_TIMERS = Timer.__table__
#: a timer given up on (``failed``, ``discarded``) still stands for the event the workflow
#: waits on: it is not written again while the workflow waits, and settles when it stops
_WAITING_TIMERS = Prepared(
    select(Timer.id, Timer.name, Timer.cycle, Timer.due_at, Timer.state).where(
        Timer.case_id == bindparam("case_id"),
        Timer.source == "bpmn",
        or_(Timer.state == "waiting", Timer.state == "failed", Timer.state == "discarded"),
    )
)
_SETTLE_TIMER = Prepared(
    update(_TIMERS)
    .where(
        _TIMERS.c.id == bindparam("id"),
        or_(_TIMERS.c.state == "waiting", _TIMERS.c.state == "failed"),
    )
    .values(state=bindparam("state"), fired_at=bindparam("now"))
)
_CANCEL_TIMERS = Prepared(  # a closed case waits on nothing: SLA targets end with it
    update(_TIMERS)
    .where(
        _TIMERS.c.case_id == bindparam("case_id"),
        or_(_TIMERS.c.state == "waiting", _TIMERS.c.state == "failed"),
    )
    .values(state="cancelled", fired_at=bindparam("now"))
)
_INSERT_TIMERS = prepared_insert(
    _TIMERS, ["case_id", "source", "name", "threshold", "cycle", "due_at", "state", "attempts"]
)
_CANCEL_TASKS = (
    update(_TASKS)
    .where(
        _TASKS.c.case_id == bindparam("b_case_id"),  # "case_id" is reserved in an UPDATE
        _TASKS.c.state == "open",
        _TASKS.c.engine_task_id.in_(bindparam("engine_ids", expanding=True)),
    )
    .values(state="cancelled", completed_at=bindparam("now"), row_version=_TASKS.c.row_version + 1)
    .returning(_TASKS.c.id)
)
_TASK_FIELDS = [
    "case_id",
    "engine_task_id",
    "element_id",
    "name",
    "lane",
    "role",
    "state",
    "assignee_id",
    "created_at",
    "row_version",
]
_INSERT_TASK = prepared_insert(_TASKS, _TASK_FIELDS, returning=_TASKS.c.id)
_INSERT_CANDIDATES = prepared_insert(
    TaskCandidate.__table__, ["task_id", "kind", "group_id", "user_id"]
)


@lru_cache(maxsize=32)
def _save_case(columns: frozenset[str]) -> Prepared:
    """``UPDATE cases SET <columns> WHERE id = :case_id AND row_version = :expected``."""
    return Prepared(
        update(_CASES)
        .where(_CASES.c.id == bindparam("case_id"), _CASES.c.row_version == bindparam("expected"))
        .values({name: bindparam(f"v_{name}") for name in sorted(columns)})
    )


@dataclass
class CaseRef:
    """The columns of a case the runner needs, read without its (large) state."""

    id: int
    number: str
    version_id: int
    row_version: int
    status: str
    #: What the row holds in the ``SKIPPABLE`` columns, where known.  A save leaves out a
    #: column whose value did not change: SQLite rewrites an index entry for every
    #: indexed column an UPDATE sets, changed or not, and on the lifecycle those were a
    #: tenth of the pages each case wrote.
    stored: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, case: Case) -> CaseRef:
        stored = {c.key: getattr(case, c.key) for c in SKIPPABLE}
        return cls(
            case.id, case.number or "", case.version_id, case.row_version, case.status, stored
        )

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> CaseRef:
        """From a row of ``_CASE_REF``'s columns."""
        case_id, number, version_id, row_version, status, *stored = row
        return cls(
            case_id,
            number,
            version_id,
            row_version,
            status,
            stored={c.key: v for c, v in zip(SKIPPABLE, stored, strict=True)},
        )


@dataclass
class LiveCase:
    """A case's workflow in the middle of a transaction.

    ``ready_before`` is the set of human tasks that were READY when it was loaded,
    which are exactly the case's open task rows: saving compares it with what is
    READY afterwards instead of reading the task rows again.
    """

    ref: CaseRef
    version: LoadedVersion
    workflow: BpmnWorkflow
    ready_before: frozenset[str]
    settled: set[str]  # engine task ids whose rows the caller already updated
    is_new: bool = False  # opened in this transaction: its SLA clocks start at the save


def case_ref(work: UnitOfWork, case_id: int) -> CaseRef | None:
    row = _CASE_REF.first(work.session, {"case_id": case_id})
    return CaseRef.from_row(row) if row else None


def ready_human_tasks(workflow: BpmnWorkflow) -> dict[str, str]:
    """Engine task id -> BPMN id of every READY human (manual) task."""
    ready = TaskState.READY
    return {
        str(t.id): t.task_spec.bpmn_id
        for t in all_tasks(workflow)
        if t.state == ready and t.task_spec.manual
    }


def start(ref: CaseRef, version: LoadedVersion, data: dict[str, Any]) -> LiveCase:
    """A new workflow for a case that has just been inserted."""
    log_context.note_case(ref.number)
    workflow = BpmnWorkflow(
        version.spec,
        version.subprocess_specs,
        script_engine=make_script_engine(scripts_enabled=version.config.scripts_enabled),
    )
    workflow.task_tree.data.update(data)
    prime_timer_starts(workflow)
    return LiveCase(ref, version, workflow, frozenset(), set(), is_new=True)


def load(work: UnitOfWork, case: CaseRef) -> LiveCase:
    """The case's workflow: the cached live object when it is current, else deserialized."""
    log_context.note_case(case.number)  # every log line of this work names the case
    version = work.runtime.version(work.session, case.version_id)
    workflow = work.runtime.take_workflow(case.id, case.row_version)
    if workflow is None:
        (state,) = _CASE_STATE.first(work.session, {"case_id": case.id}) or ("",)
        workflow = work.runtime.serializer.loads(state, version.spec, version.subprocess_specs)
        workflow.script_engine = make_script_engine(scripts_enabled=version.config.scripts_enabled)
    return LiveCase(case, version, workflow, frozenset(ready_human_tasks(workflow)), set())


def run(
    work: UnitOfWork,
    live: LiveCase,
    *,
    refresh_timers: bool = False,
    completing: SpiffTask | None = None,
) -> None:
    """Advance the engine as far as it goes, with the unit of work's clock as time.

    ``completing``: a human task to run first, under the same clock -- running it starts
    the timers of the events that follow it (an intermediate timer counts from here).
    A step of the process that fails (a gateway condition or script raising) is a
    :class:`~engine.errors.ProcessError`; the caller's unit of work rolls back, and the
    half-run workflow is never cached, so the case stays as it was.
    """
    workflow = live.workflow
    try:
        with engine_time(FixedNow(work.now)):
            if completing is not None:
                forget_instance_item(completing)
                completing.run()
            if refresh_timers:
                workflow.refresh_timers()
            workflow.do_engine_steps()
    except SpiffWorkflowException as exc:  # a case being opened gets no number after all
        raise process_error(exc, None if live.is_new else live.ref.number) from exc


def save(
    work: UnitOfWork, live: LiveCase, *, actor_id: int | None, extra: dict[str, Any] | None = None
) -> list[int]:
    """Store the workflow and mirror its human tasks; return the ids of new task rows.

    ``extra`` are further case columns to set in the same UPDATE.  The case row is
    written first, conditionally on its row version: a transaction that lost the race
    stops there, before it has written any task or timer row.
    """
    case, workflow = live.ref, live.workflow
    timers = waiting_timers(workflow)
    values: dict[str, Any] = {
        "workflow_state": work.runtime.serializer.dumps(workflow),
        "next_timer_due": next_timer_due(timers),
        "updated_at": work.now,
        "row_version": case.row_version + 1,
        **wait_columns(workflow, live.version.config),
        **(extra or {}),
    }
    completed_now = workflow.completed and case.status != "closed" and "status" not in values
    if completed_now:
        values.update(status="closed", closed_at=work.now)
        audit.record(
            work,
            actor_id=actor_id,
            entity="case",
            entity_id=case.number,
            case_id=case.id,
            action="closed",
            before={"status": case.status},
            after={"status": "closed", "reason": "process completed"},
        )
    for name, value in case.stored.items():
        if name in values and values[name] == value:
            del values[name]
    params = {f"v_{name}": value for name, value in values.items()}
    stored = (
        _save_case(frozenset(values))
        .execute(work.session, {"case_id": case.id, "expected": case.row_version, **params})
        .rowcount
    )
    if stored != 1:
        raise Conflict(
            f"case {case.number} was changed by someone else at the same moment; "
            "reload it and try again"
        )
    case.row_version += 1
    case.stored.update((name, values[name]) for name in case.stored if name in values)
    if values.get("status") == "closed" and case.status != "closed":
        _CANCEL_TIMERS.execute(work.session, {"case_id": case.id, "now": work.now})
        sla_facts.closed(work, case.id, live.version)
        call_activities.child_closed(work, case.id, workflow)  # a parent waiting for it
    case.status = values.get("status", case.status)
    created, open_tasks = _sync_tasks(work, live, actor_id=actor_id)
    if case.status != "closed":  # closing settled every timer row of the case above
        fired = _sync_timers(work, case.id, timers, has_rows=not live.is_new)
        if fired and live.version.sla_timers:
            breached(work, case.id, live.version, fired)
        sync_jobs(work, case.id, live.version, workflow, live.ready_before)
        call_activities.start_children(work, case, live.version, workflow, live.ready_before)
    row_version = case.row_version
    if case.status != "closed":  # a closed case is rarely touched again: do not hold it
        if live.is_new:
            sla_clocks.arm(work, CaseInfo(case.id, live.version), open_tasks)
        else:
            sla_clocks.sync_pause(work, case.id, open_tasks)
        work.after_commit.append(lambda: work.runtime.keep_workflow(case.id, row_version, workflow))
    if created:
        work.runtime.hooks.tasks_ready(work, CaseInfo(case.id, live.version), created)
    if completed_now and live.version.config.events:  # creation rules ([[on_close]])
        from engine.run.creation_rules import on_close  # it opens cases, which save here

        on_close(work, live)
    return created


def _sync_timers(
    work: UnitOfWork, case_id: int, timers: list[WaitingTimer], *, has_rows: bool = True
) -> list[FiredTimer]:
    """Keep one ``timers`` row per waiting BPMN timer; settle the rows that stopped waiting
    and return those that fired.  ``has_rows=False``: the case is new and has no rows yet."""
    rows = _WAITING_TIMERS.rows(work.session, {"case_id": case_id}) if has_rows else []
    current = {(t.name, t.cycle) for t in timers}
    known = {(name, cycle) for _, name, cycle, _, _ in rows}
    fired: list[FiredTimer] = []
    for row_id, name, cycle, due_at, was in rows:
        if (name, cycle) not in current:
            # a failed timer the case moved past (another path, a retry elsewhere) never fired
            state = "fired" if due_at <= work.now and was == "waiting" else "cancelled"
            _SETTLE_TIMER.execute(work.session, {"id": row_id, "state": state, "now": work.now})
            if state == "fired":
                fired.append((name, cycle, due_at))
    new = [t for t in timers if (t.name, t.cycle) not in known]
    if new:
        _INSERT_TIMERS.execute_many(
            work.session,
            [
                {
                    "case_id": case_id,
                    "source": "bpmn",
                    "name": t.name,
                    "threshold": 1.0,
                    "cycle": t.cycle,
                    "due_at": t.due_at,
                    "state": "waiting",
                    "attempts": 0,
                }
                for t in new
            ],
        )
    return fired


def _sync_tasks(
    work: UnitOfWork, live: LiveCase, *, actor_id: int | None
) -> tuple[list[int], list[sla_clocks.OpenTask]]:
    """Mirror READY human tasks as rows; return the new rows' ids and what is open now."""
    case = live.ref
    ready = ready_human_tasks(live.workflow)
    gone = sorted(live.ready_before - ready.keys() - live.settled)
    if gone:
        cancelled = (
            work.session.execute(
                _CANCEL_TASKS, {"b_case_id": case.id, "engine_ids": gone, "now": work.now}
            )
            .scalars()
            .all()
        )
        for row_id in cancelled:
            audit.record(
                work,
                actor_id=actor_id,
                entity="task",
                entity_id=row_id,
                case_id=case.id,
                action="cancelled",
                before={"state": "open"},
                after={"state": "cancelled", "reason": "the process moved on"},
            )
    created = []
    for engine_id, element_id in ready.items():
        route = live.version.routing.get(element_id)
        if engine_id in live.ready_before or route is None:
            continue
        created.append(_insert_task(work, live, engine_id, route, actor_id))
    routes = [(element_id, live.version.routing.get(element_id)) for element_id in ready.values()]
    return created, [(r.role, element_id, r.name) for element_id, r in routes if r is not None]


def _insert_task(
    work: UnitOfWork, live: LiveCase, engine_id: str, route: TaskRouting, actor_id: int | None
) -> int:
    case = live.ref
    task_id = _INSERT_TASK.insert_id(
        work.session,
        {
            "case_id": case.id,
            "engine_task_id": engine_id,
            "element_id": route.element_id,
            "name": route.name,
            "lane": route.lane,
            "role": route.role,
            "state": "open",
            "assignee_id": route.assignee_id,
            "created_at": work.now,
            "row_version": 1,
        },
    )
    if route.member_variable:  # one instance of a per-member multi-instance task
        insert_member(work, task_id, route, live.workflow, engine_id, case.number)
    else:
        insert_candidates(work, task_id, route)
    audit.record(
        work,
        actor_id=actor_id,
        entity="task",
        entity_id=task_id,
        case_id=case.id,
        action="created",
        after={"name": route.name, "lane": route.lane, "role": route.role},
    )
    return task_id


def insert_candidates(work: UnitOfWork, task_id: int, route: TaskRouting) -> None:
    """The task's candidate rows: its groups, its users and, for owner tasks, the owner."""
    candidates = [
        {"task_id": task_id, "kind": "group", "group_id": g, "user_id": None}
        for g in route.group_ids
    ]
    candidates += [
        {"task_id": task_id, "kind": "user", "group_id": None, "user_id": u} for u in route.user_ids
    ]
    if route.owner:
        candidates.append({"task_id": task_id, "kind": "owner", "group_id": None, "user_id": None})
    if candidates:
        _INSERT_CANDIDATES.execute_many(work.session, candidates)
