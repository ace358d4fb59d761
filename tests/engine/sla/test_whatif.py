"""What-if: a period's cases replayed under another policy, side by side, nothing stored."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.runtime import Runtime
from engine.sla import whatif
from engine.sla.events import ClockEvent
from engine.sla.outcomes import outcomes
from engine.store.models import Base, Case, CaseType
from engine.store.sla import CaseSla, SlaEvent
from tests.engine.sla.calendars import BERLIN_OFFICE
from tests.engine.sla.reporting import World, build, waiting_case

LOOSER = {
    "calendar": {"timezone": "UTC", "hours": "24/7"},
    "targets": {"first_response": {"within": "PT3H"}, "resolution": {"within": "PT12H"}},
}


@pytest.fixture
def world(db_url: str, tmp_path: Path):
    built = build(db_url, tmp_path)
    yield built
    built.runtime.close()


def fingerprint(rt: Runtime) -> tuple[dict[str, int], str]:
    """Row counts of every table and a checksum over all their rows."""
    digest, counts = hashlib.sha256(), {}
    with rt.unit() as work:
        for table in Base.metadata.sorted_tables:
            rows = work.session.execute(select(table).order_by(*table.primary_key.columns)).all()
            counts[table.name] = len(rows)
            digest.update(repr(rows).encode())
    return counts, digest.hexdigest()


def replay(world: World, policy: dict) -> whatif.WhatIf:
    with world.runtime.unit() as work:
        type_id = work.session.scalar(select(CaseType.id).where(CaseType.key == "SUPPORT"))
        return whatif.replay(
            work,
            case_type_id=type_id,
            policy=whatif.proposal(policy),
            opened_from=datetime(2026, 1, 1, tzinfo=UTC),
            opened_to=datetime(2026, 2, 1, tzinfo=UTC),
        )


def test_a_looser_policy_turns_the_late_case_into_a_met_one_and_stores_nothing(world: World):
    before = fingerprint(world.runtime)
    found = replay(world, LOOSER)
    assert fingerprint(world.runtime) == before
    assert found.cases == 3 and found.changed_cases == 1
    assert found.table() == [
        {"target": "first_response", "met_now": 1, "breached_now": 1,
         "met_proposed": 2, "breached_proposed": 0},
        {"target": "resolution", "met_now": 1, "breached_now": 1,
         "met_proposed": 2, "breached_proposed": 0},
    ]  # fmt: skip
    assert {(c.case, c.target, c.now, c.proposed) for c in found.changes} == {
        ("C-000002", "first_response", "breached", "met"),
        ("C-000002", "resolution", "breached", "met"),
    }


def test_a_target_the_proposal_adds_is_counted_for_every_case(world: World):
    stricter = {**LOOSER, "targets": {"first_response": {"within": "PT10M"}}}
    found = replay(world, stricter)
    rows = {row["target"]: row for row in found.table()}
    assert rows["first_response"]["breached_proposed"] == 2  # A and B answered after 10 min
    assert rows["resolution"]["met_proposed"] == 0  # the proposal has no resolution target


def straightforward(world: World, policy: dict) -> whatif.WhatIf:
    """The replay done case by case through ``outcomes`` on ``ClockEvent`` s: what the fast
    path must agree with."""
    proposed = whatif.without_warnings(whatif.proposal(policy))
    result = whatif.WhatIf()
    with world.runtime.unit() as work:
        rows = work.session.execute(
            select(Case.id, Case.number, Case.created_at, Case.closed_at, CaseSla.policy_id)
            .outerjoin(CaseSla, CaseSla.case_id == Case.id)
            .order_by(Case.id)
        ).all()
        for case_id, number, created_at, closed_at, policy_id in rows:
            events = [
                ClockEvent(kind, at, target)
                for kind, at, target in work.session.execute(
                    select(SlaEvent.kind, SlaEvent.at, SlaEvent.target)
                    .where(SlaEvent.case_id == case_id)
                    .order_by(SlaEvent.id)
                )
            ] or [ClockEvent("started", created_at)]
            before = {}
            if policy_id is not None:
                current = work.runtime.sla_policy(work.session, policy_id).policy
                before = outcomes(current, events, closed_at=closed_at, now=work.now)
            after = outcomes(proposed, events, closed_at=closed_at, now=work.now)
            result.cases += 1
            result.current.update(before.items())
            result.proposed.update(after.items())
            for name in sorted(before.keys() | after.keys()):
                if before.get(name) != after.get(name):
                    result.changes.append(
                        whatif.Change(number, name, before.get(name), after.get(name))
                    )
            result.changed_cases += before != after
    return result


@pytest.mark.parametrize(
    "policy",
    [
        LOOSER,
        {**LOOSER, "targets": {"first_response": {"within": "PT10M"}}},
        {"calendar": BERLIN_OFFICE, "targets": {"resolution": {"within": "PT2H"},
                                                "first_response": {"within": "PT30M"}}},
        {"calendar": {"timezone": "America/New_York", "hours": {"mon-fri": ["09:00-10:00"]}},
         "targets": {"first_response": {"within": "PT3H10M"}, "next_update": {"within": "PT1H"},
                     "resolution": {"within": "PT6H"}}},
    ],
)  # fmt: skip
def test_the_fast_replay_agrees_with_replaying_case_by_case(world: World, policy: dict):
    waiting_case(world)
    fast, slow = replay(world, policy), straightforward(world, policy)
    assert fast.cases == slow.cases == 4
    assert fast.table() == slow.table()
    assert (fast.changed_cases, fast.changes) == (slow.changed_cases, slow.changes)
