"""Policy versions: new cases take the newest, open cases keep theirs until migrated,
"none" means no clocks, and a new calendar moves every open clock -- each with a dry run
that shows which cases move and changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from designer import deploy
from engine.clock import ManualClock
from engine.run import cases
from engine.runtime import Runtime
from engine.sla import clocks as sla_clocks
from engine.sla import versions
from engine.store.models import CaseType, Timer
from engine.store.sla import SlaPolicyVersion
from people.directory import user_by_name
from tests.conftest import PROCESSES, seed_directory, support_toml
from tests.engine.sla.test_whatif import fingerprint

CALENDAR = {"timezone": "UTC", "hours": {"mon-fri": ["09:00-17:00"]}}
POLICY = {"calendar": CALENDAR, "targets": {"resolution": {"within": "PT8H"}}}
MONDAY = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def rt(db_url: str, tmp_path: Path) -> Iterator[Runtime]:
    runtime = Runtime(db_url, clock=ManualClock(MONDAY))
    runtime.init_schema()
    seed_directory(runtime)
    path = tmp_path / "support.toml"
    path.write_text(support_toml())
    config = deploy.resolve_config(PROCESSES / "support.bpmn", path, "SUPPORT")
    with runtime.unit() as work:
        deploy.deploy(work, bpmn_path=PROCESSES / "support.bpmn", config=config)
    yield runtime
    runtime.close()


def type_id(rt: Runtime) -> int:
    with rt.unit() as work:
        found = work.session.scalar(select(CaseType.id).where(CaseType.key == "SUPPORT"))
    assert found is not None
    return found


def store(rt: Runtime, definition: dict) -> None:
    with rt.unit() as work:
        versions.store(work, type_id(rt), definition, actor_id=None)


def open_case(rt: Runtime) -> int:
    with rt.unit() as work:
        user = user_by_name(work, "carol")
        return cases.open_case(work, case_type="SUPPORT", subject="x", raiser=user).id


def breach(rt: Runtime, case_id: int) -> datetime | None:
    with rt.unit() as work:
        return work.session.scalar(
            select(Timer.due_at).where(
                Timer.case_id == case_id,
                Timer.source == "sla",
                Timer.state == "waiting",
                Timer.threshold == 1.0,
            )
        )


def policy_number(rt: Runtime, case_id: int) -> int | None:
    with rt.unit() as work:
        shown = sla_clocks.clocks(work, case_id)
    return shown.policy_number if shown else None


def test_open_cases_keep_their_version_until_migrated_and_the_dry_run_changes_nothing(
    rt: Runtime,
):
    store(rt, POLICY)
    old = open_case(rt)
    assert breach(rt, old) == MONDAY + timedelta(hours=8)
    store(rt, {**POLICY, "targets": {"resolution": {"within": "PT4H"}}})
    new = open_case(rt)
    assert (policy_number(rt, old), policy_number(rt, new)) == (1, 2)
    assert breach(rt, new) == MONDAY + timedelta(hours=4)

    before = fingerprint(rt)
    with rt.unit() as work:
        moved, moves = versions.migrate(work, type_id(rt), dry_run=True, actor_id=None)
    assert fingerprint(rt) == before
    assert moved == 1
    assert [(m.target, m.due_before, m.due_after) for m in moves] == [
        ("resolution", MONDAY + timedelta(hours=8), MONDAY + timedelta(hours=4))
    ]
    with rt.unit() as work:
        versions.migrate(work, type_id(rt), dry_run=False, actor_id=None)
    assert policy_number(rt, old) == 2
    assert breach(rt, old) == MONDAY + timedelta(hours=4)


def test_the_policy_none_gives_new_cases_no_clocks_and_stops_migrated_ones(rt: Runtime):
    store(rt, POLICY)
    running = open_case(rt)
    store(rt, {})
    assert policy_number(rt, open_case(rt)) is None
    assert policy_number(rt, running) == 1  # kept until migrated
    with rt.unit() as work:
        moved, moves = versions.migrate(work, type_id(rt), dry_run=False, actor_id=None)
    assert moved == 1 and [(m.target, m.due_after) for m in moves] == [("resolution", None)]
    assert policy_number(rt, running) is None and breach(rt, running) is None
    with rt.unit() as work:
        numbers = list(work.session.scalars(select(SlaPolicyVersion.number)))
    assert sorted(numbers) == [1, 2]


def test_a_holiday_added_to_the_calendar_moves_open_due_times(rt: Runtime):
    store(rt, POLICY)
    case_id = open_case(rt)  # Monday 09:00 + 8 business hours: Monday 17:00
    holiday = {**CALENDAR, "extra_holidays": ["2026-01-05"]}
    before = fingerprint(rt)
    with rt.unit() as work:
        moved, moves = versions.change_calendar(
            work, type_id(rt), holiday, dry_run=True, actor_id=None
        )
    assert fingerprint(rt) == before
    tuesday_five = datetime(2026, 1, 6, 17, 0, tzinfo=UTC)
    assert moved == 1
    assert [(m.due_before, m.due_after) for m in moves] == [
        (MONDAY + timedelta(hours=8), tuesday_five)
    ]
    with rt.unit() as work:
        versions.change_calendar(work, type_id(rt), holiday, dry_run=False, actor_id=None)
    assert breach(rt, case_id) == tuesday_five
    assert policy_number(rt, case_id) == 2
    assert breach(rt, open_case(rt)) == tuesday_five  # new cases get the new calendar
