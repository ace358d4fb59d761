"""Firing due timers.

Every timer a case waits on is a row of ``timers`` (written by ``workflows.save``),
indexed by state and due time, so a sweep reads only what is due and never loads a
case that is not.  Several workers may sweep at once on PostgreSQL: ``FOR UPDATE SKIP
LOCKED`` hands each due row to one of them, and a case advanced by two workers at the
same moment is stored once (the other gets a conflict and leaves the row for the
next sweep, which then finds it settled).
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select, update

from engine import audit, log_context
from engine.errors import Conflict
from engine.run import connectors, workflows
from engine.runtime import Runtime, UnitOfWork
from engine.sla import clocks as sla_clocks
from engine.store.db import changed_rows
from engine.store.models import TIMER_IS_WAITING, Timer

log = logging.getLogger(__name__)


def _due(work: UnitOfWork) -> tuple[ColumnElement[bool], ...]:
    return (TIMER_IS_WAITING, Timer.source == "bpmn", Timer.due_at <= work.now)


def claim_next(work: UnitOfWork, passed: Collection[int] = ()) -> int | None:
    """The case of the earliest due BPMN timer that no other worker holds (nor one in
    ``passed``), its due timers taken for this transaction; None when there is none.

    Each worker takes the next free case in one statement (``FOR UPDATE SKIP LOCKED`` on
    PostgreSQL), so workers sweeping at once never queue behind the same case nor spend a
    transaction finding that another took it: reading a list first and claiming its cases
    one by one had two workers walk the same list in the same order.  SQLite has one
    writer: the earliest due case is read, then taken with a conditional UPDATE (a second
    worker waits for the write lock and then finds its timers settled)."""
    taken_meanwhile: list[int] = []
    while True:
        earliest = (
            select(Timer.case_id)
            .where(*_due(work), Timer.case_id.not_in([*passed, *taken_meanwhile]))
            .order_by(Timer.due_at)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        case_id = work.session.scalar(earliest)
        if case_id is None:
            return None
        if _claim(work, case_id):
            return int(case_id)
        taken_meanwhile.append(case_id)  # SQLite: fired by another worker since the read


def _claim(work: UnitOfWork, case_id: int) -> bool:
    """Take the case's other due timers too; False if another worker has them."""
    due = (Timer.case_id == case_id, *_due(work))
    if work.session.get_bind().dialect.name == "postgresql":
        claimed = select(Timer.id).where(*due).with_for_update(skip_locked=True)
        return work.session.scalars(claimed).first() is not None
    touched = changed_rows(
        work.session,
        update(Timer)
        .where(*due)
        .values(attempts=Timer.attempts + 1)
        .execution_options(synchronize_session=False),
    )
    return touched > 0


def fire_claimed(work: UnitOfWork, case_id: int) -> str | None:
    """Advance a claimed case past its due timers; its number, or None if it is not open."""
    ref = workflows.case_ref(work, case_id)
    if ref is None or ref.status != "open":
        return None
    live = workflows.load(work, ref)
    workflows.run(work, live, refresh_timers=True)
    workflows.save(work, live, actor_id=None)
    return ref.number


#: The wait after a timer's first failed attempt; it doubles with each further one ...
RETRY_AFTER = timedelta(minutes=5)
#: ... up to this ceiling,
MAX_BACKOFF = timedelta(hours=6)
#: and after this many failed attempts the timer is given up on (state ``failed``): it
#: shows in ``run.py jobs failed``, on the admin page and in ``/metrics`` until an operator
#: retries or discards it, instead of being retried forever in silence.
MAX_ATTEMPTS = 10


def backoff(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt."""
    wait: timedelta = RETRY_AFTER * 2 ** max(attempts - 1, 0)
    return min(wait, MAX_BACKOFF)


def postpone(
    work: UnitOfWork,
    *,
    timer_ids: list[int] | None = None,
    case_id: int | None = None,
    error: BaseException | None = None,
) -> list[Timer]:
    """Count a failed attempt on due timers and push them back by :func:`backoff`, or give
    them up after :data:`MAX_ATTEMPTS`, so a broken case is retried later instead of failing
    every sweep, and never forever.  The timers given up on are returned."""
    due = [TIMER_IS_WAITING, Timer.due_at <= work.now]
    if timer_ids is not None:
        due.append(Timer.id.in_(timer_ids))
    else:  # a case's BPMN timers; its SLA rows fire on their own
        due += [Timer.case_id == case_id, Timer.source == "bpmn"]
    reason = _one_line(error)
    given_up = []
    for timer in work.session.scalars(select(Timer).where(*due)):
        timer.attempts += 1
        timer.last_error = reason
        if timer.attempts >= MAX_ATTEMPTS:
            timer.state, timer.fired_at = "failed", work.now
            given_up.append(timer)
        else:
            timer.due_at = work.now + backoff(timer.attempts)
    work.session.flush()
    for timer in given_up:
        _record_given_up(work, timer)
    return given_up


def _one_line(error: BaseException | None) -> str | None:
    if error is None:
        return None
    first = (str(error).strip().splitlines() or [""])[0]
    return f"{type(error).__name__}: {first}"[:4000]


def _record_given_up(work: UnitOfWork, timer: Timer) -> None:
    """Say so in the log and in the case's history: an operator must look at it."""
    ref = workflows.case_ref(work, timer.case_id)
    number = ref.number if ref is not None else str(timer.case_id)
    log.error(
        "timer %s (%s %s) of %s failed %d times; given up: %s "
        "(`run.py jobs retry timer:%s` after a fix)",
        timer.id,
        timer.source,
        timer.name,
        number,
        timer.attempts,
        timer.last_error,
        timer.id,
    )
    if ref is not None:
        audit.record(
            work,
            actor_id=None,
            entity="case",
            entity_id=ref.number,
            case_id=ref.id,
            action="timer_failed",
            after={"timer": timer.id, "name": timer.name, "error": timer.last_error},
        )


def sweep(runtime: Runtime, *, limit: int = 100) -> list[str]:
    """One timer sweep, the worker's job: up to ``limit`` due SLA thresholds, connector
    jobs and cases, each in its own transaction, so one failure or lost race never holds
    back the others.  A case claimed but not advanced (a lost race, a failure) is passed
    over for the rest of the sweep; one advanced has no due timer left to claim."""
    passed: list[int] = []
    for _ in range(limit):
        with log_context.scope():
            timer_id, settled = _fire_next_sla(runtime, passed)
        if timer_id is None:
            break
        if not settled:
            passed.append(timer_id)
    with runtime.unit() as work:
        job_ids = connectors.due(work, limit=limit)  # service tasks: registered connectors
    fired = connectors.run_jobs(runtime, job_ids)
    passed = []
    for _ in range(limit):
        with log_context.scope():  # lines about this case name it, and only them
            case_id, number = _fire_next(runtime, passed)
        if case_id is None:
            break
        if number:
            fired.append(number)
        else:
            passed.append(case_id)
    return fired


def _fire_next_sla(runtime: Runtime, passed: list[int]) -> tuple[int | None, bool]:
    """(the SLA timer row claimed, whether it was fired); (None, False): nothing is due."""
    claimed: int | None = None
    try:
        with runtime.unit() as work:
            claimed = sla_clocks.claim_next(work, passed)
            if claimed is not None:
                sla_clocks.fire(work, claimed)
            return claimed, True
    except Exception as error:
        if claimed is None:
            raise
        log.exception("SLA timer %s failed; it is retried later", claimed)
        with runtime.unit() as work:
            postpone(work, timer_ids=[claimed], error=error)
        return claimed, False


def _fire_next(runtime: Runtime, passed: list[int]) -> tuple[int | None, str | None]:
    """(the case claimed, its number once advanced); (None, None): nothing is due."""
    claimed: int | None = None
    try:
        with runtime.unit() as work:
            claimed = claim_next(work, passed)
            return claimed, (fire_claimed(work, claimed) if claimed is not None else None)
    except Conflict:
        return claimed, None  # advanced elsewhere at the same moment; nothing was stored
    except Exception as error:
        if claimed is None:
            raise
        log.exception("timers of case %s failed; they are retried later", claimed)
        with runtime.unit() as work:
            postpone(work, case_id=claimed, error=error)
        return claimed, None


def next_due(work: UnitOfWork) -> datetime | None:
    """When the earliest waiting timer falls due (one index probe), so a worker can wake
    up for it instead of waiting for its next tick."""
    return work.session.scalar(select(func.min(Timer.due_at)).where(TIMER_IS_WAITING))
