"""SLA targets become timer rows when a case opens and fire once each, whatever the workers."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from designer import deploy
from engine.clock import ManualClock
from engine.run import cases, task_queries, tasks, timers
from engine.runtime import CaseHooks, CaseInfo, Runtime, SlaNotice, UnitOfWork
from engine.sla import clocks as sla_clocks
from engine.sla import versions
from engine.store.models import Case, Timer
from tests.conftest import PROCESSES, seed_directory, support_toml
from tests.engine.held_elsewhere import held_elsewhere

SLA = """
[sla.calendar]
timezone = "Europe/Berlin"
hours = "24/7"
[sla.targets.first_response]
within = "PT1H"
warn_at = [0.5]
[sla.targets.resolution]
within = "PT8H"
"""


class Recorder(CaseHooks):
    def __init__(self) -> None:
        self.calls: list[tuple[int, str, float]] = []
        self.lock = threading.Lock()

    def sla_due(self, work: UnitOfWork, case: CaseInfo, notice: SlaNotice) -> None:
        with self.lock:
            self.calls.append((case.id, notice.target, notice.threshold))


@pytest.fixture
def sla(db_url: str, tmp_path: Path, clock: ManualClock):
    recorder = Recorder()
    rt = Runtime(db_url, clock=clock, hooks=recorder)
    rt.init_schema()
    users = seed_directory(rt)
    config_path = tmp_path / "support.toml"
    config_path.write_text(support_toml() + SLA)
    config = deploy.resolve_config(PROCESSES / "support.bpmn", config_path, "SUPPORT")
    with rt.unit() as work:
        deploy.deploy(work, bpmn_path=PROCESSES / "support.bpmn", config=config)
    yield rt, users, recorder
    rt.close()


def _open(rt: Runtime, users) -> int:
    with rt.unit() as work:
        return cases.open_case(work, case_type="SUPPORT", subject="x", raiser=users["carol"]).id


def test_it_writes_a_timer_row_per_threshold_when_a_case_opens(sla, clock):
    rt, users, _ = sla
    case_id = _open(rt, users)
    with rt.unit() as work:
        rows = sorted(
            (t.name, t.threshold, t.due_at - clock.now())
            for t in work.session.scalars(
                select(Timer).where(Timer.case_id == case_id, Timer.source == "sla")
            )
        )
    assert rows == [
        ("first_response", 0.5, timedelta(minutes=30)),
        ("first_response", 1.0, timedelta(hours=1)),
        ("resolution", 1.0, timedelta(hours=8)),
    ]


def test_it_fires_each_threshold_once_even_with_racing_workers(sla, clock):
    rt, users, recorder = sla
    opened = [_open(rt, users) for _ in range(5)]
    clock.advance(timedelta(minutes=61))
    barrier = threading.Barrier(3)

    def worker() -> None:
        barrier.wait()
        timers.sweep(rt)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    timers.sweep(rt)  # a later sweep finds nothing left to fire
    assert sorted(recorder.calls) == sorted(
        (case_id, "first_response", threshold) for case_id in opened for threshold in (0.5, 1.0)
    )


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)  # SQLite: one writer
def test_a_threshold_another_worker_holds_is_passed_over_not_waited_for(sla, clock):
    rt, users, recorder = sla
    opened = [_open(rt, users) for _ in range(2)]
    clock.advance(timedelta(minutes=31))  # each case's first warning is due

    def earliest_threshold(work: UnitOfWork) -> int:
        timer = work.session.get(Timer, sla_clocks.claim_next(work))
        assert timer is not None
        return timer.case_id

    with held_elsewhere(rt, earliest_threshold) as held:
        timers.sweep(rt)
        assert [call[0] for call in recorder.calls] == [c for c in opened if c != held]
    timers.sweep(rt)  # free again: the next sweep fires it
    assert sorted(recorder.calls) == [(c, "first_response", 0.5) for c in sorted(opened)]


def test_it_cancels_the_remaining_targets_when_the_case_closes(sla, clock):
    rt, users, recorder = sla
    case_id = _open(rt, users)
    for user, data in (
        ("alice", {}),
        ("alice", {"resolution": "done"}),
        ("carol", {"resolved": True}),
    ):
        with rt.unit() as work:
            task = task_queries.case_tasks(work, case_id)[0].task
            tasks.complete(work, task_id=task.id, user=users[user], data=data)
    clock.advance(timedelta(hours=9))
    timers.sweep(rt)
    assert recorder.calls == []
    with rt.unit() as work:
        states = set(work.session.scalars(select(Timer.state).where(Timer.case_id == case_id)))
    assert states == {"cancelled"}


PAUSING_SLA = """
[sla.calendar]
timezone = "Europe/Berlin"
hours = "24/7"
[sla.targets.resolution]
within = "PT8H"
[sla.pause]
roles = ["owner"]
"""


def _deploy(rt: Runtime, tmp_path: Path, sla_text: str) -> None:
    config_path = tmp_path / "support.toml"
    config_path.write_text(support_toml() + sla_text)
    config = deploy.resolve_config(PROCESSES / "support.bpmn", config_path, "SUPPORT")
    with rt.unit() as work:
        deploy.deploy(work, bpmn_path=PROCESSES / "support.bpmn", config=config)


def _sla_rows(rt: Runtime, case_id: int) -> list[tuple[str, float, int, str, datetime]]:
    with rt.unit() as work:
        return sorted(
            (t.name, t.threshold, t.cycle, t.state, t.due_at)
            for t in work.session.scalars(
                select(Timer).where(Timer.case_id == case_id, Timer.source == "sla")
            )
        )


def _complete(rt: Runtime, users, case_id: int, user: str, data: dict) -> None:
    with rt.unit() as work:
        task = task_queries.case_tasks(work, case_id)[0].task
        tasks.complete(work, task_id=task.id, user=users[user], data=data)


def test_it_pauses_while_the_customer_has_the_task_and_shifts_the_due_time(sla, clock, tmp_path):
    rt, users, recorder = sla
    _deploy(rt, tmp_path, PAUSING_SLA)
    case_id = _open(rt, users)
    opened = clock.now()
    clock.advance(timedelta(hours=1))
    _complete(rt, users, case_id, "alice", {})
    _complete(rt, users, case_id, "alice", {"resolution": "Replace the roller"})
    # "Confirm resolution" sits in the customer's lane: the clock stops
    assert [r[3] for r in _sla_rows(rt, case_id)] == ["cancelled"]
    clock.advance(timedelta(hours=10))
    timers.sweep(rt)
    assert recorder.calls == []
    _complete(rt, users, case_id, "carol", {"resolved": False})  # back to the service desk
    ((name, _, _, state, due_at),) = _sla_rows(rt, case_id)
    assert (name, state) == ("resolution", "waiting")
    assert due_at == opened + timedelta(hours=8 + 10)  # the 10 paused hours do not count
    with rt.unit() as work:
        shown = sla_clocks.clocks(work, case_id)
    assert shown is not None
    assert shown.pauses == [(opened + timedelta(hours=1), opened + timedelta(hours=11))]


def test_an_agent_can_set_a_case_waiting_on_the_customer(sla, clock, tmp_path):
    rt, users, recorder = sla
    _deploy(rt, tmp_path, PAUSING_SLA)
    case_id = _open(rt, users)
    opened = clock.now()
    with rt.unit() as work:
        assert sla_clocks.set_waiting(work, case_id, True, actor_id=users["alice"].id)
    clock.advance(timedelta(hours=20))
    timers.sweep(rt)
    assert recorder.calls == []
    with rt.unit() as work:
        sla_clocks.customer_answered(work, case_id, actor_id=users["carol"].id)
    assert _sla_rows(rt, case_id)[0][3:] == ("waiting", opened + timedelta(hours=28))
    clock.advance(timedelta(hours=8))
    timers.sweep(rt)
    assert recorder.calls == [(case_id, "resolution", 1.0)]


def test_a_migrated_case_moves_to_the_new_policy_and_never_fires_a_threshold_twice(
    sla, clock, tmp_path
):
    rt, users, recorder = sla
    case_id = _open(rt, users)  # first_response PT1H (warn at 50 %), resolution PT8H
    opened = clock.now()
    clock.advance(timedelta(minutes=70))
    timers.sweep(rt)
    assert sorted(recorder.calls) == [
        (case_id, "first_response", 0.5),
        (case_id, "first_response", 1.0),
    ]
    _deploy(
        rt,
        tmp_path,
        SLA.replace('within = "PT1H"', 'within = "PT2H"').replace(
            'within = "PT8H"', 'within = "PT4H"'
        ),
    )
    with rt.unit() as work:
        shown = sla_clocks.clocks(work, case_id)
        assert shown is not None and shown.policy_number == 1  # it keeps its version ...
        versions.migrate(work, shown_type(work, case_id), dry_run=False, actor_id=None)
    with rt.unit() as work:
        shown = sla_clocks.clocks(work, case_id)
    assert shown is not None and shown.policy_number == 2  # ... until it is migrated
    rows = _sla_rows(rt, case_id)
    assert ("resolution", 1.0, 0, "waiting", opened + timedelta(hours=4)) in rows
    clock.advance(timedelta(hours=5))
    timers.sweep(rt)
    # the first-response breach already went out under version 1: not again under version 2
    assert sorted(recorder.calls) == [
        (case_id, "first_response", 0.5),
        (case_id, "first_response", 1.0),
        (case_id, "resolution", 1.0),
    ]


def shown_type(work: UnitOfWork, case_id: int) -> int:
    case = work.session.get(Case, case_id)
    assert case is not None
    return case.case_type_id


def test_deploying_the_same_policy_again_changes_nothing(sla, clock, tmp_path):
    rt, users, _ = sla
    case_id = _open(rt, users)
    before = _sla_rows(rt, case_id)
    _deploy(rt, tmp_path, SLA)
    with rt.unit() as work:
        shown = sla_clocks.clocks(work, case_id)
    assert shown is not None and shown.policy_number == 1
    assert _sla_rows(rt, case_id) == before
