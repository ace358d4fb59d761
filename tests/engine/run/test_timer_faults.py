"""Timers and their notices under faults, with real worker processes.

- three workers on PostgreSQL race over 2,000 SLA thresholds due at the same instant:
  each fires once and each notice is delivered once;
- a worker killed with SIGKILL at random points of its ticks, several times over: after a
  surviving worker has run, every threshold has fired once and every notice was delivered
  under its one Message-ID (a notice whose delivery was cut off may arrive again, but
  never under another Message-ID).
"""

from __future__ import annotations

import mailbox
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from designer import deploy
from engine.clock import ManualClock, SystemClock
from engine.run import cases, timers
from engine.runtime import Runtime
from engine.store.models import Timer
from engine.store.outbox import OutboxMessage
from mail.outbox import CLAIM_LEASE
from mail.smtp import MaildirTransport, send_due
from people import directory
from tests.conftest import PROCESSES, ROOT, seed_directory, support_toml, wired_app
from tests.scratch_db import scratch_schema

pytestmark = pytest.mark.integration

SLA = """
[sla.calendar]
timezone = "UTC"
hours = "24/7"
[sla.targets.first_response]
within = "PT1H"
warn_at = [0.25, 0.5, 0.75]
"""
THRESHOLDS = 4


def _setup(url: str, tmp_path: Path, n_cases: int) -> Runtime:
    """A support case type with four thresholds per case, ``n_cases`` cases, all due now."""
    rt = wired_app(url, SystemClock()).runtime
    seed_directory(rt)
    with rt.unit() as work:
        directory.user_by_name(work, "lee").email = "lee@example.com"
    config_path = tmp_path / "support.toml"
    config_path.write_text(support_toml(SLA))
    config = deploy.resolve_config(PROCESSES / "support.bpmn", config_path, "SUPPORT")
    with rt.unit() as work:
        deploy.deploy(work, bpmn_path=PROCESSES / "support.bpmn", config=config)
    with rt.unit() as work:
        carol = directory.user_by_name(work, "carol")
        for i in range(n_cases):
            cases.open_case(work, case_type="SUPPORT", subject=f"case {i}", raiser=carol)
    with rt.unit() as work:  # every threshold due at the same instant
        work.session.execute(
            update(Timer)
            .where(Timer.source == "sla")
            .values(due_at=work.now - timedelta(seconds=1))
        )
    return rt


def _worker(url: str, maildir: Path, *extra: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CASEWORK_DB": url, "CASEWORK_MAILDIR": str(maildir)}
    return subprocess.Popen(
        [sys.executable, str(ROOT / "run.py"), "worker", *extra],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _counts(rt: Runtime) -> tuple[int, int, int]:
    """(thresholds still waiting, thresholds fired, notices not yet sent)."""
    with rt.unit() as work:
        waiting = work.session.scalar(
            select(func.count()).where(Timer.source == "sla", Timer.state == "waiting")
        )
        fired = work.session.scalar(
            select(func.count()).where(Timer.source == "sla", Timer.state == "fired")
        )
        unsent = work.session.scalar(select(func.count()).where(OutboxMessage.state != "sent"))
    return waiting, fired, unsent


def _delivered(maildir: Path) -> Counter[str]:
    return Counter(message["Message-ID"] for message in mailbox.Maildir(maildir, create=False))


def _queued_ids(rt: Runtime) -> set[str]:
    with rt.unit() as work:
        return set(work.session.scalars(select(OutboxMessage.message_id)))


@pytest.fixture
def pg_url(postgres_url: str) -> Iterator[str]:
    with scratch_schema(postgres_url) as url:
        yield url


def test_three_workers_on_postgresql_fire_2000_thresholds_and_send_each_notice_once(
    pg_url: str, tmp_path: Path
):
    url = pg_url
    rt = _setup(url, tmp_path, 2000 // THRESHOLDS)
    maildir = tmp_path / "maildir"
    workers = [_worker(url, maildir, "--tick", "0.2") for _ in range(3)]
    try:
        deadline = time.monotonic() + 900  # a safety net: a loaded machine is slow
        while time.monotonic() < deadline:
            waiting, fired, unsent = _counts(rt)
            if waiting == 0 and unsent == 0 and fired == 2000:
                break
            time.sleep(0.5)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=60)
    assert _counts(rt) == (0, 2000, 0)
    delivered = _delivered(maildir)
    assert len(_queued_ids(rt)) == 2000
    assert set(delivered) == _queued_ids(rt)
    assert max(delivered.values()) == 1  # no notice was sent twice
    with rt.unit() as work:
        claimed_by = set(work.session.scalars(select(OutboxMessage.claimed_by)))
    assert len(claimed_by) >= 2  # the work really was shared
    rt.close()


def test_a_worker_killed_mid_tick_loses_nothing_and_sends_nothing_under_a_new_id(
    db_url: str, tmp_path: Path
):
    rt = _setup(db_url, tmp_path, 100)
    maildir = tmp_path / "maildir"
    chance = random.Random(7)
    for _ in range(4):
        worker = _worker(db_url, maildir, "--tick", "0.2")
        time.sleep(chance.uniform(1.0, 3.0))
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    # a surviving worker, later: leases of messages the killed one had claimed ran out
    later = ManualClock(rt.clock.now() + CLAIM_LEASE + timedelta(seconds=1))
    survivor = wired_app(db_url, later).runtime
    for _ in range(50):
        timers.sweep(survivor)
        send_due(survivor.sessions, MaildirTransport(maildir), now=later.now(), limit=500)
        if _counts(survivor)[0] == 0 and _counts(survivor)[2] == 0:
            break
    assert _counts(survivor) == (0, 100 * THRESHOLDS, 0)
    delivered = _delivered(maildir)
    assert set(delivered) == _queued_ids(survivor)  # each notice arrived, under one id
    assert len(delivered) == 100 * THRESHOLDS
    survivor.close()
    rt.close()
