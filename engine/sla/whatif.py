"""What-if: replay a period's cases under another SLA policy or calendar, side by side.

Each case of the type opened in the period is replayed twice from its stored clock
history: under the policy version it runs on (what the report counts) and under the
proposed one (:func:`engine.sla.outcomes.outcomes`, closing meets resolution).  A case
that ran without a policy ("none") is replayed under the proposal as if its clocks had
started when it opened.  Nothing is written: the replay reads cases and histories in
two statements and computes the rest in this process, so it is safe on a live database.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select

from engine.runtime import UnitOfWork
from engine.store.models import Case
from engine.store.sla import CaseSla, SlaEvent

from .events import ClockEvent
from .options import read_section
from .outcomes import Outcome, outcomes
from .targets import SlaPolicy


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
    in_period = (
        Case.case_type_id == case_type_id,
        Case.created_at >= opened_from,
        Case.created_at < opened_to,
    )
    cases = work.session.execute(
        select(Case.id, Case.number, Case.created_at, Case.closed_at, CaseSla.policy_id)
        .outerjoin(CaseSla, CaseSla.case_id == Case.id)
        .where(*in_period)
        .order_by(Case.id)
    ).all()
    histories: dict[int, list[ClockEvent]] = {}
    for case_id, kind, at, target in work.session.execute(
        select(SlaEvent.case_id, SlaEvent.kind, SlaEvent.at, SlaEvent.target)
        .join(Case, Case.id == SlaEvent.case_id)
        .where(*in_period)
        .order_by(SlaEvent.case_id, SlaEvent.id)
    ):
        histories.setdefault(case_id, []).append(ClockEvent(kind, at, target))
    result = WhatIf(cases=len(cases))
    policy = without_warnings(policy)
    current_policies: dict[int, SlaPolicy] = {}
    for case_id, number, created_at, closed_at, policy_id in cases:
        events = histories.get(case_id) or [ClockEvent("started", created_at)]
        before: dict[str, Outcome] = {}
        if policy_id is not None:
            current = current_policies.get(policy_id)
            if current is None:
                loaded = work.runtime.sla_policy(work.session, policy_id).policy
                current = current_policies[policy_id] = without_warnings(loaded)
            before = outcomes(current, events, closed_at=closed_at, now=work.now)
        after = outcomes(policy, events, closed_at=closed_at, now=work.now)
        result.current.update(before.items())
        result.proposed.update(after.items())
        differing = [
            Change(number or str(case_id), name, before.get(name), after.get(name))
            for name in sorted(before.keys() | after.keys())
            if before.get(name) != after.get(name)
        ]
        if differing:
            result.changed_cases += 1
            room = keep_changes - len(result.changes)
            result.changes.extend(differing[: max(room, 0)])
    return result
