"""The SLA report counts what happened to cases, per case type, group, priority and month."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.sla import report, rollup
from engine.sla.facts import bucket, seconds_of
from engine.store.sla import SlaRollup
from tests.engine.sla.reporting import World, build


@pytest.fixture
def world(db_url: str, tmp_path: Path):
    built = build(db_url, tmp_path)
    yield built
    built.runtime.close()


def close_to(seconds: float | None, expected: float) -> bool:
    return seconds is not None and abs(seconds - expected) <= expected * 0.025


def test_it_counts_cases_times_and_targets_of_the_month(world: World):
    with world.runtime.unit() as work:
        shown = report.build(work, case_type_ids=None)
    (row,) = shown.rows
    assert (row.month, row.case_type, row.group, row.priority) == (
        "2026-01",
        "SUPPORT",
        "service-desk",
        "normal",
    )
    assert (row.opened, row.closed) == (3, 2)
    assert (row.targets_met, row.targets_breached) == (2, 2)
    assert close_to(row.first_response_median, 30 * 60)
    assert close_to(row.first_response_p90, 2 * 3600)
    assert close_to(row.resolution_median, 2 * 3600)
    assert close_to(row.resolution_p90, 10 * 3600)


def test_an_open_case_is_at_risk_once_its_breach_is_due_within_the_horizon(world: World):
    """C was just opened: its first answer is due in 1 h."""
    with world.runtime.unit() as work:
        assert report.build(work, case_type_ids=None, at_risk_hours=0.5).at_risk == []
    world.clock.advance(timedelta(minutes=45))
    with world.runtime.unit() as work:
        (risk,) = report.build(work, case_type_ids=None, at_risk_hours=0.5).at_risk
    assert (risk.case_type, risk.group, risk.cases) == ("SUPPORT", "service-desk", 1)


def test_months_outside_the_range_are_left_out(world: World):
    with world.runtime.unit() as work:
        assert report.build(work, case_type_ids=None, first_month=202602).rows == []
        assert len(report.build(work, case_type_ids=None, last_month=202601).rows) == 1
        assert report.build(work, case_type_ids=frozenset()).rows == []


@pytest.mark.parametrize("seconds", [0, 1, 59, 3600, 86_400 * 30, 10**8])
def test_a_bucket_holds_its_value_within_two_and_a_half_percent(seconds: int):
    assert abs(seconds_of(bucket(seconds)) - seconds) <= max(seconds * 0.025, 0.6)


def test_a_month_is_written_like_2026_03():
    assert report.month_number("2026-03") == 202603
    for bad in ("2026-13", "26-03", "2026-3", "march"):
        with pytest.raises(ValueError):
            report.month_number(bad)


def test_the_rollup_kept_case_by_case_equals_one_rebuilt_from_the_facts(world: World):
    def rows() -> list[tuple]:
        with world.runtime.unit() as work:
            return sorted(
                tuple(r) for r in work.session.execute(select(*SlaRollup.__table__.c)).all()
            )

    kept = rows()
    with world.runtime.unit() as work:
        rollup.rebuild(work)
    # cases 1-3 opened (three spread rows), 2 resolutions and 2 first answers
    assert rows() == kept and len(kept) == 7
