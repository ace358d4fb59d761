"""Timer start events open cases through the worker: exactly one case per due time, even
with two workers sweeping at the same moment, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from designer import deploy
from engine.clock import ManualClock
from engine.run import cases, start_events
from engine.runtime import Runtime
from engine.store.events import StartTimer
from engine.store.models import Case, HumanTask
from tests.conftest import PROCESSES, seed_directory

WEEKLY = PROCESSES / "examples" / "weekly_check.bpmn"


def deploy_weekly(rt: Runtime, bpmn: Path = WEEKLY) -> None:
    config = deploy.resolve_config(bpmn, WEEKLY.with_suffix(".toml"), None)
    with rt.unit() as work:
        deploy.deploy(work, bpmn_path=bpmn, config=config)


def count(rt: Runtime, model: type) -> int:
    with rt.unit() as work:
        return work.session.scalar(select(func.count()).select_from(model)) or 0


def test_a_cron_start_event_opens_one_case_when_due(runtime: Runtime, clock: ManualClock):
    seed_directory(runtime)
    clock.set(datetime(2026, 12, 7, 8, 0, tzinfo=UTC))  # a Monday
    deploy_weekly(runtime)
    assert start_events.sweep(runtime) == []
    with runtime.unit() as work:
        [row] = work.session.scalars(select(StartTimer)).all()
        assert (row.element_id, row.due_at, row.state) == (
            "Start_Weekly",
            datetime(2026, 12, 7, 9, 0, tzinfo=UTC),
            "waiting",
        )
    clock.set(datetime(2026, 12, 7, 9, 0, 30, tzinfo=UTC))
    [number] = start_events.sweep(runtime)
    assert start_events.sweep(runtime) == []
    with runtime.unit() as work:
        case = cases.case_by_number(work, number)
        assert case.subject == "Every Monday 09:00 2026-12-07 09:00 UTC"
        tasks = work.session.scalars(
            select(HumanTask.element_id).where(HumanTask.case_id == case.id)
        ).all()
        assert tasks == ["Task_Check"]
        next_row = work.session.scalars(
            select(StartTimer).where(StartTimer.state == "waiting")
        ).one()
        assert next_row.due_at == datetime(2026, 12, 14, 9, 0, tzinfo=UTC)


def _sweep_with(rt: Runtime, together: threading.Barrier, opened: list[str]) -> None:
    together.wait()  # both workers sweep the same due row at the same moment
    opened.extend(start_events.sweep(rt))


def test_two_workers_open_exactly_one_case_per_due_time(
    db_url: str, runtime: Runtime, clock: ManualClock, tmp_path: Path
):
    seed_directory(runtime)
    every_minute = tmp_path / "weekly_check.bpmn"
    every_minute.write_text(WEEKLY.read_text().replace("0 9 * * MON", "* * * * *"))
    clock.set(datetime(2026, 12, 7, 8, 0, tzinfo=UTC))
    deploy_weekly(runtime, every_minute)
    other = Runtime(db_url, clock=clock)
    opened: list[str] = []
    try:
        for _ in range(5):
            clock.advance(timedelta(minutes=1))
            together = threading.Barrier(2)
            threads = [
                threading.Thread(target=_sweep_with, args=(rt, together, opened))
                for rt in (runtime, other)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    finally:
        other.close()
    assert len(opened) == len(set(opened)) == count(runtime, Case) == 5
    with runtime.unit() as work:
        fired = work.session.scalars(
            select(StartTimer.due_at).where(StartTimer.state == "fired").order_by(StartTimer.id)
        ).all()
    assert fired == [datetime(2026, 12, 7, 8, m, tzinfo=UTC) for m in range(1, 6)]
