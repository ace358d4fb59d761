"""Races between agents, timers firing through the worker sweep, and version pinning."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from designer import deploy
from engine.errors import Conflict
from engine.run import cases, task_queries, tasks, timers, workflows
from engine.runtime import UnitOfWork
from engine.store.models import HumanTask, Timer
from tests.conftest import PROCESSES, Support
from tests.engine.held_elsewhere import held_elsewhere


def _open(support: Support) -> tuple[str, int]:
    with support.runtime.unit() as work:
        case = cases.open_case(
            work, case_type="SUPPORT", subject="Race", raiser=support.users["carol"]
        )
        return case.number, task_queries.case_tasks(work, case.id)[0].task.id


def test_it_lets_exactly_one_of_two_simultaneous_completions_win(support: Support):
    def agent(name: str, triage: int, barrier: threading.Barrier, outcomes: list[str]) -> None:
        barrier.wait()
        try:
            with support.runtime.unit() as work:
                tasks.complete(work, task_id=triage, user=support.users[name], data={})
            outcomes.append("ok")
        except Conflict as exc:
            outcomes.append(f"conflict: {exc}")

    for _ in range(5):
        number, triage = _open(support)
        barrier = threading.Barrier(2)
        outcomes: list[str] = []
        threads = [
            threading.Thread(target=agent, args=(n, triage, barrier, outcomes))
            for n in ("alice", "bob")
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(o.split(":")[0] for o in outcomes) == ["conflict", "ok"], outcomes
        with support.runtime.unit() as work:
            case = cases.case_by_number(work, number)
            open_names = [i.task.name for i in task_queries.case_tasks(work, case.id)]
        assert open_names == ["Propose resolution"]


def test_it_fires_the_overdue_timer_into_an_escalation_task(support: Support, clock):
    number, _ = _open(support)
    assert timers.sweep(support.runtime) == []
    clock.advance(timedelta(hours=4, seconds=1))
    assert timers.sweep(support.runtime) == [number]
    with support.runtime.unit() as work:
        case = cases.case_by_number(work, number)
        open_tasks = {i.task.name: i.task for i in task_queries.case_tasks(work, case.id)}
        lee_sees = [i.task.name for i in task_queries.inbox(work, support.users["lee"])]
        assert case.next_timer_due is None
    assert set(open_tasks) == {"Triage case", "Review overdue triage"}
    assert open_tasks["Review overdue triage"].role == "escalation"
    assert lee_sees == ["Review overdue triage"]
    assert timers.sweep(support.runtime) == []
    with support.runtime.unit() as work:
        states = sorted(work.session.scalars(select(Timer.state).where(Timer.source == "bpmn")))
    assert states == ["fired"]


def test_it_keeps_running_cases_on_their_version(support: Support, tmp_path: Path):
    old_number, _ = _open(support)
    changed = tmp_path / "support.bpmn"
    changed.write_text(
        (PROCESSES / "support.bpmn")
        .read_text()
        .replace('name="Triage case"', 'name="Triage the case"')
    )
    config = deploy.resolve_config(changed, PROCESSES / "support.toml", "SUPPORT")
    with support.runtime.unit() as work:
        result = deploy.deploy(work, bpmn_path=changed, config=config)
    assert (result.version, result.created) == (2, True)
    with support.runtime.unit() as work:
        again = deploy.deploy(work, bpmn_path=changed, config=config)
    assert (again.version, again.created) == (2, False)
    new_number, _ = _open(support)
    with support.runtime.unit() as work:
        old_case = cases.case_by_number(work, old_number)
        new_case = cases.case_by_number(work, new_number)
        names = {
            c.number: [i.task.name for i in task_queries.case_tasks(work, c.id)]
            for c in (old_case, new_case)
        }
    assert names == {old_number: ["Triage case"], new_number: ["Triage the case"]}
    assert old_case.version_id != new_case.version_id


def test_it_evaluates_datetime_now_in_expressions_with_the_injected_clock(clock):
    from engine.clock import engine_time
    from engine.sandbox.environment import SafeEnvironment

    with engine_time(clock):
        value = SafeEnvironment().evaluate("datetime.now(timezone.utc).isoformat()", {})
    assert value == clock.now().isoformat()


def test_it_keeps_one_timer_row_per_waiting_timer_and_settles_it(support: Support, clock):
    _, triage = _open(support)
    with support.runtime.unit() as work:
        rows = list(
            work.session.execute(
                select(Timer.source, Timer.state, Timer.due_at).where(Timer.source == "bpmn")
            )
        )
    assert rows == [("bpmn", "waiting", clock.now() + timedelta(hours=4))]
    with support.runtime.unit() as work:
        tasks.complete(work, task_id=triage, user=support.users["alice"], data={})
    with support.runtime.unit() as work:
        states = work.session.scalars(select(Timer.state).where(Timer.source == "bpmn"))
        assert list(states) == ["cancelled"]


def test_it_fires_each_due_timer_once_when_workers_race(support: Support, clock):
    opened = [_open(support)[0] for _ in range(6)]
    clock.advance(timedelta(hours=5))
    results: list[list[str]] = []
    barrier = threading.Barrier(3)

    def worker() -> None:
        barrier.wait()
        results.append(timers.sweep(support.runtime))

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    fired = sorted(n for r in results for n in r)
    assert fired == sorted(opened)
    with support.runtime.unit() as work:
        escalations = work.session.scalar(
            select(func.count())
            .select_from(HumanTask)
            .where(HumanTask.element_id == "Task_ReviewOverdue")
        )
    assert escalations == 6


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)  # SQLite: one writer
def test_a_case_another_worker_holds_is_passed_over_not_waited_for(support: Support, clock):
    opened = {_open(support)[0] for _ in range(3)}
    clock.advance(timedelta(hours=5))

    def earliest_case(work: UnitOfWork) -> str:
        ref = workflows.case_ref(work, timers.claim_next(work) or 0)
        assert ref is not None
        return ref.number

    with held_elsewhere(support.runtime, earliest_case) as held:
        fired = timers.sweep(support.runtime)
    assert sorted(fired) == sorted(opened - {held})  # the others, not the held one
    assert timers.sweep(support.runtime) == [held]  # free again: the next sweep fires it


def test_it_postpones_a_failing_case_and_still_fires_the_others(
    support: Support, clock, monkeypatch
):
    broken, _ = _open(support)
    healthy, _ = _open(support)
    real_load = workflows.load

    def load(work, ref):
        if ref.number == broken:
            raise RuntimeError("corrupt workflow state")
        return real_load(work, ref)

    monkeypatch.setattr(workflows, "load", load)
    clock.advance(timedelta(hours=5))
    assert timers.sweep(support.runtime) == [healthy]
    with support.runtime.unit() as work:
        case_id = cases.case_by_number(work, broken).id
        row = work.session.scalar(
            select(Timer).where(Timer.case_id == case_id, Timer.source == "bpmn")
        )
    assert (row.state, row.attempts, row.due_at) == ("waiting", 1, clock.now() + timers.RETRY_AFTER)
    assert timers.sweep(support.runtime) == []  # not retried before its new due time
    monkeypatch.setattr(workflows, "load", real_load)
    clock.advance(timers.RETRY_AFTER)
    assert timers.sweep(support.runtime) == [broken]
