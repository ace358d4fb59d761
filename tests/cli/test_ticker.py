"""The worker's early wake-up for the next timer follows the worker's own clock.

A rehearsal (``worker --clock 2026-01-05T…``) runs months away from the wall clock the
scheduler keeps; the next timer's due time must be measured on the rehearsal's clock, or
every waiting timer looks overdue and the worker sweeps without pause, burning a core.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from casework.compose import build_app
from casework.config import AppConfig
from cli.ticker import TimerTicker
from designer import deploy
from engine.clock import ManualClock
from engine.run import cases, timers
from people import directory

ROOT = Path(__file__).resolve().parents[2]
OPENED = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)  # a Monday morning in Berlin


class Scheduler:
    """Records the jobs the ticker adds."""

    def __init__(self) -> None:
        self.jobs: dict[str, dict[str, Any]] = {}

    def add_job(self, func: object, trigger: str, **options: Any) -> None:
        self.jobs[options["id"]] = options


def rehearsal(db_url: str) -> tuple[Any, ManualClock]:
    clock = ManualClock(OPENED)
    app = build_app(AppConfig(database_url=db_url, clock=clock))
    app.runtime.init_schema()
    with app.runtime.unit() as work:
        for group in ("service-desk", "specialists", "support-leads", "support-monitors"):
            directory.add_group(work, name=group)
        carol = directory.add_user(work, username="carol")
        bpmn = ROOT / "processes" / "support.bpmn"
        deploy.deploy(work, bpmn_path=bpmn, config=deploy.resolve_config(bpmn, None, "SUPPORT"))
        cases.open_case(work, case_type="SUPPORT", subject="Printer", raiser=carol)
    return app, clock


def test_a_timer_hours_ahead_on_the_rehearsal_clock_schedules_no_wake_up(db_url: str) -> None:
    app, _ = rehearsal(db_url)  # months before the wall clock: the timers are hours ahead
    scheduler = Scheduler()
    ticker = TimerTicker(scheduler, app.runtime, app.outbox, tick=1.0)  # type: ignore[arg-type]
    ticker.run()
    assert "timer-wakeup" not in scheduler.jobs  # the next tick is soon enough
    app.runtime.close()


def test_a_timer_due_within_the_tick_wakes_the_worker_at_its_moment(db_url: str) -> None:
    app, clock = rehearsal(db_url)
    with app.runtime.unit() as work:
        due = timers.next_due(work)
    assert due is not None
    clock.set(due - timedelta(milliseconds=400))
    scheduler = Scheduler()
    ticker = TimerTicker(scheduler, app.runtime, app.outbox, tick=1.0)  # type: ignore[arg-type]
    before = datetime.now(UTC)
    ticker.run()
    wake = scheduler.jobs["timer-wakeup"]["run_date"]
    assert (
        before + timedelta(milliseconds=300)
        <= wake
        <= datetime.now(UTC) + timedelta(milliseconds=400)
    )
    app.runtime.close()
