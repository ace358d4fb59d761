"""Report facts for cases that have none: those opened before the facts were kept.

Live, a case's fact row is written as it opens, first gets an agent answer and closes
(``engine.sla.facts``).  Cases opened before the upgrade that added the facts have no
row, so the SLA report leaves them out.  :func:`backfill` computes each missing row from
what is stored -- the case (opened, closed, its version and priority), its posts and its
SLA clock history -- with the numbers the live path would have written: seconds to the
first agent answer (the first public post the caller's ``is_agent`` judges an agent's
answer: who may answer a customer is an access question this layer does not decide) and
to the close, the
reporting slice of the case's version and priority, and the targets met and breached at
the close from :func:`engine.sla.outcomes.outcomes`, the code the live close runs.  The
monthly rollup is then rebuilt from all the facts (``engine.sla.rollup.rebuild``).

It only adds rows for cases without one, so running it again changes nothing, and a
case that gets its row meanwhile (opened or closed live) is left as the live path wrote it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select

from engine.runtime import Runtime, UnitOfWork
from engine.store.models import Case, StreamPost
from engine.store.sla import CaseSla, SlaCaseFact, SlaEvent

from . import facts, rollup
from .events import ClockEvent
from .outcomes import outcomes, tally

AgentAnswer = Callable[[UnitOfWork, Case, int | None], bool]
"""Whether a public post by this author (a user id, or ``None``) on ``case`` is an agent
answering the customer."""

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


def backfill(runtime: Runtime, is_agent: AgentAnswer, *, dry_run: bool = False) -> Backfilled:
    """Give every case without a fact row one, in transactions of :data:`CHUNK` cases, then
    rebuild the rollup; ``dry_run`` counts the cases and writes nothing."""
    done = Backfilled()
    for chunk in _chunks(runtime):
        with runtime.unit() as work:
            rows = _Chunk(work, chunk, is_agent).facts()
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


class _Chunk:
    """Cases, their SLA state, clock histories and public posts, read in one query each."""

    def __init__(self, work: UnitOfWork, case_ids: list[int], is_agent: AgentAnswer) -> None:
        self.work, self.is_agent = work, is_agent
        session = work.session
        chosen = select(Case).where(Case.id.in_(case_ids)).order_by(Case.id)
        self.cases = list(session.scalars(chosen))
        self.policies: dict[int, int] = {
            case_id: policy_id
            for case_id, policy_id in session.execute(
                select(CaseSla.case_id, CaseSla.policy_id).where(CaseSla.case_id.in_(case_ids))
            )
        }
        self.events: dict[int, list[ClockEvent]] = defaultdict(list)
        for case_id, kind, at, target in session.execute(
            select(SlaEvent.case_id, SlaEvent.kind, SlaEvent.at, SlaEvent.target)
            .where(SlaEvent.case_id.in_(case_ids))
            .order_by(SlaEvent.case_id, SlaEvent.id)
        ):
            self.events[case_id].append(ClockEvent(kind, at, target))
        self.posts: dict[int, list[tuple[int | None, datetime]]] = defaultdict(list)
        for case_id, author_id, at in session.execute(
            select(StreamPost.case_id, StreamPost.author_id, StreamPost.created_at)
            .where(StreamPost.case_id.in_(case_ids), StreamPost.internal.is_(False))
            .order_by(StreamPost.case_id, StreamPost.id)
        ):
            self.posts[case_id].append((author_id, at))

    def facts(self) -> list[dict[str, Any]]:
        return [self._fact(case) for case in self.cases]

    def _fact(self, case: Case) -> dict[str, Any]:
        """The fact row the live path would have written for the case by now."""
        work = self.work
        closed_at = case.closed_at if case.status == "closed" else None
        version = work.runtime.version(work.session, case.version_id)
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
        answered = self._first_answer(case, closed_at)
        if answered is not None:
            seconds = _seconds(case.created_at, answered)
            row.update(first_response_s=seconds, response_bucket=facts.bucket(seconds))
        if closed_at is not None:
            seconds = _seconds(case.created_at, closed_at)
            met, breached = self._targets(case.id, closed_at)
            row.update(
                closed_month=facts.month_of(closed_at),
                resolution_s=seconds,
                resolution_bucket=facts.bucket(seconds),
                targets_met=met,
                targets_breached=breached,
            )
        return row

    def _first_answer(self, case: Case, until: datetime | None) -> datetime | None:
        """The first public post by an agent (up to the close: later ones change no figure)."""
        for author_id, at in self.posts.get(case.id, ()):
            if until is not None and at > until:
                continue
            if self.is_agent(self.work, case, author_id):
                return at
        return None

    def _targets(self, case_id: int, closed_at: datetime) -> tuple[int, int]:
        """Targets met and breached at the close, as ``facts.closed`` counts them."""
        policy_id = self.policies.get(case_id)
        if policy_id is None:
            return 0, 0
        policy = self.work.runtime.sla_policy(self.work.session, policy_id).policy
        events = self.events.get(case_id, [])
        return tally(outcomes(policy, events, closed_at=closed_at, now=closed_at))


def _seconds(start: datetime, end: datetime) -> int:
    return max(int((end - start).total_seconds()), 0)
