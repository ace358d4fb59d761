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
from datetime import timedelta

from sqlalchemy import func, select, update

from . import workflows
from .errors import Conflict
from .runtime import CaseInfo, Runtime, UnitOfWork
from .sla import due_moments, started
from .store.fast import prepared_insert
from .store.models import Timer

log = logging.getLogger(__name__)

_INSERT_SLA = prepared_insert(
    Timer.__table__,
    ["case_id", "source", "name", "threshold", "cycle", "due_at", "state", "attempts"],
)


def due_cases(work: UnitOfWork, *, limit: int = 100) -> list[int]:
    """Ids of cases with a due BPMN timer, earliest first (read only, no locks)."""
    query = (
        select(Timer.case_id)
        .where(Timer.state == "waiting", Timer.source == "bpmn", Timer.due_at <= work.now)
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
    touched = work.session.execute(
        update(Timer)
        .where(*due)
        .values(attempts=Timer.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return touched.rowcount > 0


def fire_case(work: UnitOfWork, case_id: int) -> str | None:
    """Advance one case past its due timers; ``None`` when another worker has them."""
    if not _claim(work, case_id):
        return None
    ref = workflows.case_ref(work, case_id)
    if ref is None or ref.status != "open":
        return None
    live = workflows.load(work, ref)
    workflows.run(work, live.workflow, refresh_timers=True)
    workflows.save(work, live, actor_id=None)
    return ref.number


def arm_sla(work: UnitOfWork, case: CaseInfo) -> None:
    """Write the timer rows of a new case's SLA targets (each warning threshold and breach)."""
    policy = case.version.sla
    if policy is None:
        return
    moments = due_moments(policy, [started(work.now)], work.now)
    if moments:
        _INSERT_SLA.execute_many(
            work.session,
            [
                {
                    "case_id": case.id,
                    "source": "sla",
                    "name": m.target,
                    "threshold": m.threshold,
                    "cycle": 0,
                    "due_at": m.due_at,
                    "state": "waiting",
                    "attempts": 0,
                }
                for m in moments
            ],
        )


def sla_responded(work: UnitOfWork, case: CaseInfo) -> None:
    """An agent answered the customer: the first-response target is met (its remaining
    thresholds stop) and the next-update clock starts again from now.  Each target is
    its own clock, so resetting one never moves another."""
    policy = case.version.sla
    if policy is None:
        return
    waiting = (Timer.case_id == case.id, Timer.source == "sla", Timer.state == "waiting")
    work.session.execute(
        update(Timer)
        .where(*waiting, Timer.name == "first_response")
        .values(state="met", fired_at=work.now)
        .execution_options(synchronize_session=False)
    )
    if not any(t.name == "next_update" for t in policy.targets):
        return
    work.session.execute(
        update(Timer)
        .where(*waiting, Timer.name == "next_update")
        .values(state="cancelled", fired_at=work.now)
        .execution_options(synchronize_session=False)
    )
    cycle = (
        work.session.scalar(
            select(func.max(Timer.cycle)).where(
                Timer.case_id == case.id, Timer.source == "sla", Timer.name == "next_update"
            )
        )
        or 0
    ) + 1
    moments = [
        m for m in due_moments(policy, [started(work.now)], work.now) if m.target == "next_update"
    ]
    if moments:
        _INSERT_SLA.execute_many(
            work.session,
            [
                {
                    "case_id": case.id,
                    "source": "sla",
                    "name": m.target,
                    "threshold": m.threshold,
                    "cycle": cycle,
                    "due_at": m.due_at,
                    "state": "waiting",
                    "attempts": 0,
                }
                for m in moments
            ],
        )


def due_sla(work: UnitOfWork, *, limit: int = 100) -> list[int]:
    """Ids of due SLA timer rows, earliest first (read only)."""
    return list(
        work.session.scalars(
            select(Timer.id)
            .where(Timer.state == "waiting", Timer.source == "sla", Timer.due_at <= work.now)
            .order_by(Timer.due_at)
            .limit(limit)
        )
    )


def fire_sla(work: UnitOfWork, timer_id: int) -> tuple[int, str, float] | None:
    """Fire one SLA threshold exactly once: only the transaction that flips the row acts."""
    flipped = work.session.execute(
        update(Timer)
        .where(Timer.id == timer_id, Timer.state == "waiting")
        .values(state="fired", fired_at=work.now)
        .returning(Timer.case_id, Timer.name, Timer.threshold, Timer.due_at, Timer.cycle)
    ).first()
    if flipped is None:
        return None
    case_id, target, threshold, due_at, cycle = flipped
    ref = workflows.case_ref(work, case_id)
    if ref is None or ref.status != "open":
        return None
    version = work.runtime.version(work.session, ref.version_id)
    work.runtime.policies.sla_due(
        work, CaseInfo(case_id, version), target, threshold, due_at, cycle
    )
    return case_id, target, threshold


#: How long a timer whose firing failed waits before the next attempt.
RETRY_AFTER = timedelta(minutes=5)


def postpone(
    work: UnitOfWork, *, timer_ids: list[int] | None = None, case_id: int | None = None
) -> None:
    """Push failed due timers back by :data:`RETRY_AFTER` and count the attempt, so a
    broken case is retried later instead of failing every sweep."""
    due = [Timer.state == "waiting", Timer.due_at <= work.now]
    due.append(Timer.id.in_(timer_ids) if timer_ids is not None else Timer.case_id == case_id)
    work.session.execute(
        update(Timer)
        .where(*due)
        .values(due_at=work.now + RETRY_AFTER, attempts=Timer.attempts + 1)
        .execution_options(synchronize_session=False)
    )


def sweep(runtime: Runtime, *, limit: int = 100) -> list[str]:
    """One timer sweep, the worker's job: each due case or SLA threshold in its own
    transaction, so one failure or lost race never holds back the others."""
    with runtime.unit() as work:
        case_ids = due_cases(work, limit=limit)
        sla_ids = due_sla(work, limit=limit)
    for timer_id in sla_ids:
        try:
            with runtime.unit() as work:
                fire_sla(work, timer_id)
        except Exception:
            log.exception("SLA timer %s failed; retrying in %s", timer_id, RETRY_AFTER)
            with runtime.unit() as work:
                postpone(work, timer_ids=[timer_id])
    fired = []
    for case_id in case_ids:
        try:
            with runtime.unit() as work:
                number = fire_case(work, case_id)
        except Conflict:
            continue  # advanced elsewhere at the same moment; nothing of ours was stored
        except Exception:
            log.exception("timers of case %s failed; retrying in %s", case_id, RETRY_AFTER)
            with runtime.unit() as work:
                postpone(work, case_id=case_id)
            continue
        if number:
            fired.append(number)
    return fired
