"""What-if: replay a period's cases under another SLA policy or calendar, side by side.

Each case of the type opened in the period is replayed twice from its stored clock
history: under the policy version it runs on (what the report counts) and under the
proposed one (:func:`engine.sla.outcomes.outcomes`, closing meets resolution).  A case
that ran without a policy ("none") is replayed under the proposal as if its clocks had
started when it opened.  Nothing is written: the replay reads the cases and their
histories in one statement, ordered by case and streamed in chunks, and computes the
rest in this process, so it is safe on a live database.  The outcomes come from the
tabulated business time of :mod:`engine.sla.timeline` (the same answers as replaying
each history through ``outcomes``, which remains the path for any history it does not
cover).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, func, select, type_coerce

from engine.runtime import UnitOfWork
from engine.store.models import Case
from engine.store.sla import CaseSla, SlaEvent

from .events import ClockEvent
from .options import read_section
from .outcomes import Outcome, outcomes
from .targets import SlaPolicy
from .timeline import Event, Timeline, fast_outcomes

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_NAIVE_EPOCH = datetime(1970, 1, 1)
_CHUNK = 5000  # rows fetched at a time


def _instant(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


@dataclass(frozen=True)
class Change:
    """One target of one case whose outcome differs under the proposal."""

    case: str
    target: str
    now: Outcome | None  # None: the target is not in the case's current policy
    proposed: Outcome | None


@dataclass
class WhatIf:
    cases: int = 0
    current: Counter[tuple[str, Outcome]] = field(default_factory=Counter)
    proposed: Counter[tuple[str, Outcome]] = field(default_factory=Counter)
    changes: list[Change] = field(default_factory=list)
    changed_cases: int = 0

    def table(self) -> list[dict[str, Any]]:
        """Per target: met and breached now and under the proposal."""
        names = sorted({t for t, _ in self.current} | {t for t, _ in self.proposed})
        return [
            {
                "target": name,
                "met_now": self.current[(name, "met")],
                "breached_now": self.current[(name, "breached")],
                "met_proposed": self.proposed[(name, "met")],
                "breached_proposed": self.proposed[(name, "breached")],
            }
            for name in names
        ]


def proposal(definition: Mapping[str, Any]) -> SlaPolicy:
    """The proposed policy from an ``[sla]`` section; ``ValueError`` names the bad key."""
    return read_section(definition)[0]


def without_warnings(policy: SlaPolicy) -> SlaPolicy:
    """The same targets without warning thresholds: an outcome needs only the breach, and
    each threshold costs a walk through the calendar on every replay."""
    return replace(policy, targets=tuple(replace(t, warn_at=()) for t in policy.targets))


def replay(
    work: UnitOfWork,
    *,
    case_type_id: int,
    policy: SlaPolicy,
    opened_from: datetime,
    opened_to: datetime,
    keep_changes: int = 1000,
) -> WhatIf:
    """Compare the cases of a type opened in [``opened_from``, ``opened_to``) now and under
    ``policy``; the first ``keep_changes`` changed targets are listed, all are counted."""
    result = WhatIf()
    in_period = (
        Case.case_type_id == case_type_id,
        Case.created_at >= opened_from,
        Case.created_at < opened_to,
    )
    first = work.session.scalar(select(func.min(Case.created_at)).where(*in_period))
    if first is None:
        return result
    replayer = _Replayer(work, without_warnings(policy), first)
    for case, history in _cases(work, in_period):
        result.cases += 1
        before, after = replayer.both(case, history)
        result.current.update(before.items())
        result.proposed.update(after.items())
        if before == after:
            continue
        result.changed_cases += 1
        room = keep_changes - len(result.changes)
        if room > 0:
            number = case[1] or str(case[0])
            differing = [
                Change(number, name, before.get(name), after.get(name))
                for name in sorted(before.keys() | after.keys())
                if before.get(name) != after.get(name)
            ]
            result.changes.extend(differing[:room])
    return result


Outcomes = dict[str, Outcome]
Row = tuple[int, str | None, int, int | None, int | None]
"""A case: id, number, opened and closed (microseconds since the epoch), the policy
version it runs on (``None``: none)."""


def _naive(column: Any) -> Any:
    """A stored UTC instant as the naive datetime it is stored as: skips making a million
    aware ``datetime`` s that are turned into microseconds at once."""
    return type_coerce(column, DateTime())


def _cases(work: UnitOfWork, in_period: tuple[Any, ...]) -> Iterator[tuple[Row, list[Event]]]:
    """Each case of the period with its clock history, in one query ordered by case and
    streamed in chunks (a case without history comes with none)."""
    rows = work.session.connection().execute(
        select(
            Case.id, Case.number, _naive(Case.created_at), _naive(Case.closed_at),
            CaseSla.policy_id, SlaEvent.kind, _naive(SlaEvent.at), SlaEvent.target,
        )
        .outerjoin(CaseSla, CaseSla.case_id == Case.id)
        .outerjoin(SlaEvent, SlaEvent.case_id == Case.id)
        .where(*in_period)
        .order_by(Case.id, SlaEvent.id)
        .execution_options(stream_results=True, max_row_buffer=_CHUNK)
    )  # fmt: skip
    case: Row | None = None
    history: list[Event] = []
    for case_id, number, created_at, closed_at, policy_id, kind, at, target in rows:
        if case is None or case[0] != case_id:
            if case is not None:
                yield case, history
            closed = None if closed_at is None else (closed_at - _NAIVE_EPOCH) // _US
            opened = (created_at - _NAIVE_EPOCH) // _US
            case, history = (case_id, number, opened, closed, policy_id), []
        if kind is not None:
            history.append((kind, (at - _NAIVE_EPOCH) // _US, target))
    if case is not None:
        yield case, history


class _Replayer:
    """Both replays of one case: the fast path of :mod:`engine.sla.timeline` when it
    covers the history, else :func:`engine.sla.outcomes.outcomes` on ``ClockEvent`` s."""

    def __init__(self, work: UnitOfWork, proposed: SlaPolicy, first: datetime) -> None:
        self.work, self.first = work, first
        self.now, self.now_us = work.now, (work.now - _EPOCH) // _US
        self.proposed = proposed, self._timeline(proposed)
        self.current: dict[int, tuple[SlaPolicy, Timeline]] = {}

    def _timeline(self, policy: SlaPolicy) -> Timeline:
        return Timeline(policy, min(self.first, self.now), self.now)

    def both(self, case: Row, history: list[Event]) -> tuple[Outcomes, Outcomes]:
        """(outcomes under the version the case runs on, outcomes under the proposal)."""
        _, _, opened, closed_us, policy_id = case
        if not history:
            history = [("started", opened, None)]
        before: dict[str, Outcome] = {}
        if policy_id is not None:
            current = self.current.get(policy_id)
            if current is None:
                loaded = self.work.runtime.sla_policy(self.work.session, policy_id).policy
                plain = without_warnings(loaded)
                current = self.current[policy_id] = plain, self._timeline(plain)
            before = self._one(current, history, closed_us)
        return before, self._one(self.proposed, history, closed_us)

    def _one(
        self,
        policy: tuple[SlaPolicy, Timeline],
        history: list[Event],
        closed_us: int | None,
    ) -> dict[str, Outcome]:
        found = fast_outcomes(policy[1], history, closed_us, self.now_us)
        if found is not None:
            return found
        events = [ClockEvent(kind, _instant(at), target) for kind, at, target in history]  # type: ignore[arg-type]
        closed_at = None if closed_us is None else _instant(closed_us)
        return outcomes(policy[0], events, closed_at=closed_at, now=self.now)
