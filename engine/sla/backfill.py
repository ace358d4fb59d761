"""Report facts for cases that have none: those opened before the facts were kept.

Live, a case's fact row is written as it opens, first gets an agent answer and closes
(``engine.sla.facts``).  Cases opened before the upgrade that added the facts have no
row, so the SLA report leaves them out.  :func:`backfill` computes each missing row from
what is stored -- the case (opened, closed, its version and priority), its posts and its
SLA clock history -- with the numbers the live path would have written: seconds to the
first agent answer (given by the caller's ``first_answer``: which post answers the
customer is an access question this layer does not decide) and to the close, the
reporting slice of the case's version and priority, and the targets met and breached at
the close from :func:`engine.sla.outcomes.outcomes`, the code the live close runs.  The
monthly rollup is then rebuilt from all the facts (``engine.sla.rollup.rebuild``).

It only adds rows for cases without one, so running it again changes nothing, and a
case that gets its row meanwhile (opened or closed live) is left as the live path wrote it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select

from engine.runtime import Runtime, UnitOfWork
from engine.store.models import Case
from engine.store.sla import CaseSla, SlaCaseFact, SlaEvent

from . import facts, rollup
from .events import ClockEvent
from .outcomes import outcomes, tally

FirstAnswer = Callable[[UnitOfWork, Case, datetime | None], datetime | None]
"""When an agent first answered the customer on ``case`` (up to the close, if given)."""

CHUNK = 500  # cases per transaction


@dataclass
class Backfilled:
    cases: int = 0  # cases given a fact row
    closed: int = 0  # ... of them closed
    answered: int = 0  # ... of them with a first agent answer


def missing(work: UnitOfWork, *, after: int = 0, limit: int | None = None) -> list[int]:
    """Ids of cases without a fact row, after ``after``, in order."""
    query = (
        select(Case.id)
        .outerjoin(SlaCaseFact, SlaCaseFact.case_id == Case.id)
        .where(SlaCaseFact.case_id.is_(None), Case.id > after)
        .order_by(Case.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return list(work.session.scalars(query))


def backfill(runtime: Runtime, first_answer: FirstAnswer, *, dry_run: bool = False) -> Backfilled:
    """Give every case without a fact row one, in transactions of :data:`CHUNK` cases, then
    rebuild the rollup; ``dry_run`` counts the cases and writes nothing."""
    done = Backfilled()
    for chunk in _chunks(runtime):
        with runtime.unit() as work:
            rows = [_fact(work, case_id, first_answer) for case_id in chunk]
            for row in rows:
                done.cases += 1
                done.closed += row["closed_month"] is not None
                done.answered += row["first_response_s"] is not None
            if dry_run:
                work.session.rollback()
            elif rows:
                work.session.execute(insert(SlaCaseFact), rows)
    if not dry_run:
        with runtime.unit() as work:
            rollup.rebuild(work)
    return done


def _chunks(runtime: Runtime) -> Iterator[list[int]]:
    after = 0
    while True:
        with runtime.unit() as work:
            chunk = missing(work, after=after, limit=CHUNK)
        if not chunk:
            return
        yield chunk
        after = chunk[-1]


def _fact(work: UnitOfWork, case_id: int, first_answer: FirstAnswer) -> dict[str, Any]:
    """The fact row the live path would have written for the case by now."""
    case = work.session.get(Case, case_id)
    assert case is not None
    closed_at = case.closed_at if case.status == "closed" else None
    version = work.runtime.version(work.session, case.version_id)
    answered = first_answer(work, case, closed_at)
    row: dict[str, Any] = {
        "case_id": case.id,
        "slice_id": facts.slice_id(work, version, case.priority),
        "opened_at": case.created_at,
        "opened_month": facts.month_of(case.created_at),
        "closed_month": None,
        "first_response_s": None,
        "response_bucket": None,
        "resolution_s": None,
        "resolution_bucket": None,
        "targets_met": 0,
        "targets_breached": 0,
    }
    if answered is not None:
        seconds = _seconds(case.created_at, answered)
        row.update(first_response_s=seconds, response_bucket=facts.bucket(seconds))
    if closed_at is not None:
        seconds = _seconds(case.created_at, closed_at)
        met, breached = _targets(work, case.id, closed_at)
        row.update(
            closed_month=facts.month_of(closed_at),
            resolution_s=seconds,
            resolution_bucket=facts.bucket(seconds),
            targets_met=met,
            targets_breached=breached,
        )
    return row


def _seconds(start: datetime, end: datetime) -> int:
    return max(int((end - start).total_seconds()), 0)


def _targets(work: UnitOfWork, case_id: int, closed_at: datetime) -> tuple[int, int]:
    """Targets met and breached at the close, as ``facts.closed`` counts them."""
    state = work.session.get(CaseSla, case_id)
    if state is None:
        return 0, 0
    policy = work.runtime.sla_policy(work.session, state.policy_id).policy
    events = [
        ClockEvent(kind, at, target)
        for kind, at, target in work.session.execute(
            select(SlaEvent.kind, SlaEvent.at, SlaEvent.target)
            .where(SlaEvent.case_id == case_id)
            .order_by(SlaEvent.id)
        )
    ]
    return tally(outcomes(policy, events, closed_at=closed_at, now=closed_at))
