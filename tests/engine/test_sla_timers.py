"""SLA targets become timer rows when a case opens and fire once each, whatever the workers."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import cases, deploy, tasks, timers
from engine.clock import ManualClock
from engine.runtime import CaseInfo, CasePolicies, Runtime, UnitOfWork
from engine.store.models import Timer
from tests.conftest import PROCESSES
from tests.engine.conftest import seed_directory

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


class Recorder(CasePolicies):
    def __init__(self) -> None:
        self.calls: list[tuple[int, str, float]] = []
        self.lock = threading.Lock()

    def sla_due(
        self,
        work: UnitOfWork,
        case: CaseInfo,
        target: str,
        threshold: float,
        due_at: datetime,
        cycle: int = 0,
    ) -> None:
        with self.lock:
            self.calls.append((case.id, target, threshold))


@pytest.fixture
def sla(db_url: str, tmp_path: Path, clock: ManualClock):
    recorder = Recorder()
    rt = Runtime(db_url, clock=clock, policies=recorder)
    rt.init_schema()
    users = seed_directory(rt)
    config_path = tmp_path / "support.toml"
    config_path.write_text((PROCESSES / "support.toml").read_text() + SLA)
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


def test_it_cancels_the_remaining_targets_when_the_case_closes(sla, clock):
    rt, users, recorder = sla
    case_id = _open(rt, users)
    for user, data in (
        ("alice", {}),
        ("alice", {"resolution": "done"}),
        ("carol", {"resolved": True}),
    ):
        with rt.unit() as work:
            task = tasks.case_tasks(work, case_id)[0].task
            tasks.complete(work, task_id=task.id, user=users[user], data=data)
    clock.advance(timedelta(hours=9))
    timers.sweep(rt)
    assert recorder.calls == []
    with rt.unit() as work:
        states = set(work.session.scalars(select(Timer.state).where(Timer.case_id == case_id)))
    assert states == {"cancelled"}
