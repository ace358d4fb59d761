"""Every kind of BPMN timer driven by the sweep with an injected clock: a non-interrupting
cycle (R2/PT10M reminders), an interrupting boundary timer (PT1H escalation) and an
intermediate timer (wait PT2H), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from designer import deploy
from engine.clock import ManualClock
from engine.run import cases, task_queries, tasks, timers
from engine.runtime import Runtime
from engine.store.models import Timer
from tests.conftest import seed_directory

HERE = Path(__file__).parents[1] / "processes"


@pytest.fixture
def timed(runtime: Runtime):
    users = seed_directory(runtime)
    config = deploy.resolve_config(HERE / "timers.bpmn", HERE / "timers.toml", "TIMED")
    with runtime.unit() as work:
        deploy.deploy(work, bpmn_path=HERE / "timers.bpmn", config=config)
    with runtime.unit() as work:
        case = cases.open_case(work, case_type="TIMED", subject="x", raiser=users["carol"])
    return runtime, users, case.id, case.number


def _open_tasks(rt: Runtime, case_id: int) -> list[str]:
    with rt.unit() as work:
        return sorted(item.task.name for item in task_queries.case_tasks(work, case_id))


def _complete(rt: Runtime, users, case_id: int, name: str, who: str = "alice") -> None:
    with rt.unit() as work:
        task = next(i.task for i in task_queries.case_tasks(work, case_id) if i.task.name == name)
        tasks.complete(work, task_id=task.id, user=users[who], data={})


def test_a_cycle_reminds_twice_and_an_intermediate_timer_waits(timed, clock: ManualClock):
    rt, users, case_id, number = timed
    assert _open_tasks(rt, case_id) == ["Do the work"]
    clock.advance(timedelta(minutes=10, seconds=1))
    assert timers.sweep(rt) == [number]
    assert _open_tasks(rt, case_id) == ["Do the work", "Reminder: work is waiting"]
    clock.advance(timedelta(minutes=10))
    assert timers.sweep(rt) == [number]
    clock.advance(timedelta(minutes=10))
    timers.sweep(rt)  # the cycle's end: R2 means two reminders, no third
    assert _open_tasks(rt, case_id).count("Reminder: work is waiting") == 2
    _complete(rt, users, case_id, "Do the work")
    with rt.unit() as work:  # the boundary timers ended with the task; the wait began
        waiting = list(
            work.session.scalars(
                select(Timer.name).where(Timer.case_id == case_id, Timer.state == "waiting")
            )
        )
    assert [name.split(":")[0] for name in waiting] == ["Wait_TwoHours"]
    clock.advance(timedelta(hours=1, minutes=59))
    assert timers.sweep(rt) == []
    clock.advance(timedelta(minutes=2))
    assert timers.sweep(rt) == [number]
    assert "Follow up" in _open_tasks(rt, case_id)
    for name in ("Follow up", "Reminder: work is waiting", "Reminder: work is waiting"):
        _complete(rt, users, case_id, name)
    with rt.unit() as work:
        assert cases.case_by_number(work, number).status == "closed"


def test_an_interrupting_timer_takes_the_work_away_but_keeps_the_reminders(
    timed, clock: ManualClock
):
    rt, users, case_id, _ = timed
    for _ in range(6):  # a sweep every 10 minutes for an hour
        clock.advance(timedelta(minutes=10, seconds=1))
        timers.sweep(rt)
    assert _open_tasks(rt, case_id) == [
        "Reminder: work is waiting",
        "Reminder: work is waiting",
        "Take over overdue work",
    ]
    with rt.unit() as work:
        lee = [i.task.name for i in task_queries.inbox(work, users["lee"])]
        assert lee == ["Take over overdue work"]
        assert (
            work.session.scalars(
                select(Timer.state).where(Timer.case_id == case_id, Timer.state == "waiting")
            ).all()
            == []
        )
