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
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from engine import audit, log_context
from engine.errors import Conflict
from engine.run import connectors, workflows
from engine.runtime import Runtime, UnitOfWork
from engine.sla import clocks as sla_clocks
from engine.store.db import changed_rows
from engine.store.models import TIMER_IS_WAITING, Timer

log = logging.getLogger(__name__)


def due_cases(work: UnitOfWork, *, limit: int = 100) -> list[int]:
    """Ids of cases with a due BPMN timer, earliest first (read only, no locks)."""
    query = (
        select(Timer.case_id)
        .where(TIMER_IS_WAITING, Timer.source == "bpmn", Timer.due_at <= work.now)
        .order_by(Timer.due_at)
        .limit(limit)
    )
    return list(dict.fromkeys(work.session.scalars(query)))


def _claim(work: UnitOfWork, case_id: int) -> bool:
    """Take the case's due timers for this transaction; False if another worker has them.

    PostgreSQL locks the rows and skips rows another worker holds.  SQLite has one
    writer: a conditional UPDATE takes the write lock, so a second worker waits and
    then finds the timers settled.
    """
    due = (
        Timer.case_id == case_id,
        Timer.state == "waiting",
        Timer.source == "bpmn",
        Timer.due_at <= work.now,
    )
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


def fire_case(work: UnitOfWork, case_id: int) -> str | None:
    """Advance one case past its due timers; ``None`` when another worker has them."""
    if not _claim(work, case_id):
        return None
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
    """One timer sweep, the worker's job: each due case or SLA threshold in its own
    transaction, so one failure or lost race never holds back the others."""
    with runtime.unit() as work:
        case_ids = due_cases(work, limit=limit)
        sla_ids = sla_clocks.due(work, limit=limit)
        job_ids = connectors.due(work, limit=limit)  # service tasks: registered connectors
    for timer_id in sla_ids:
        with log_context.scope():
            _fire_sla(runtime, timer_id)
    fired = connectors.run_jobs(runtime, job_ids)
    for case_id in case_ids:
        with log_context.scope():  # lines about this case name it, and only them
            number = _fire_case(runtime, case_id)
        if number:
            fired.append(number)
    return fired


def _fire_sla(runtime: Runtime, timer_id: int) -> None:
    try:
        with runtime.unit() as work:
            sla_clocks.fire(work, timer_id)
    except Exception as error:
        log.exception("SLA timer %s failed; it is retried later", timer_id)
        with runtime.unit() as work:
            postpone(work, timer_ids=[timer_id], error=error)


def _fire_case(runtime: Runtime, case_id: int) -> str | None:
    try:
        with runtime.unit() as work:
            return fire_case(work, case_id)
    except Conflict:
        return None  # advanced elsewhere at the same moment; nothing of ours was stored
    except Exception as error:
        log.exception("timers of case %s failed; they are retried later", case_id)
        with runtime.unit() as work:
            postpone(work, case_id=case_id, error=error)
        return None


def next_due(work: UnitOfWork) -> datetime | None:
    """When the earliest waiting timer falls due (one index probe), so a worker can wake
    up for it instead of waiting for its next tick."""
    return work.session.scalar(select(func.min(Timer.due_at)).where(TIMER_IS_WAITING))
