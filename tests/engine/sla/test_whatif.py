"""What-if: a period's cases replayed under another policy, side by side, nothing stored."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.runtime import Runtime
from engine.sla import whatif
from engine.store.models import Base, CaseType
from tests.engine.sla.reporting import World, build

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
