"""Failed background work as an operator meets it: ``run.py jobs failed|retry|discard``.

The failures are real: a case whose stored workflow state is damaged (its timer fails on
every sweep until it is given up on), a mail the real SMTP server (aiosmtpd) refuses for
good, and a message too large for its mailbox (quarantined).  Each is listed, retried
after the fault is fixed, or discarded; every action is in the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from engine.clock import ManualClock
from engine.run import cases, timers
from engine.runtime import Runtime
from engine.store.mailbox import InboundMessage, Mailbox
from engine.store.models import AuditEntry, Case, HumanTask, Timer
from engine.store.outbox import OutboxMessage
from mail.smtp import send_due
from people.directory import user_by_name
from tests.cli.test_run import Cli
from tests.mail.helpers import build
from tests.mail.test_smtp import Server, free_port, queue
from tests.mail.world import Desk, make_desk

pytestmark = pytest.mark.integration


@dataclass
class Failed:
    """One failed job of each kind, and what it takes to fix each fault."""

    desk: Desk
    clock: ManualClock
    smtp: Server
    number: str  # the case whose timer failed
    state: str  # its workflow state before it was damaged
    timer: int
    outbox: int
    intake: int

    @property
    def runtime(self) -> Runtime:
        return self.desk.runtime


def _open_case(rt: Runtime) -> tuple[str, int]:
    with rt.unit() as work:
        case = cases.open_case(
            work, case_type="SUPPORT", subject="Printer", raiser=user_by_name(work, "carol")
        )
        return case.number, case.id


def fail_a_timer(rt: Runtime, clock: ManualClock) -> tuple[str, str, int]:
    """A case whose BPMN timer fails on every sweep (its stored state is damaged) until it
    is given up on: (case number, the good state, the timer's id)."""
    number, case_id = _open_case(rt)
    with rt.unit() as work:
        state = work.session.scalar(select(Case.workflow_state).where(Case.id == case_id))
        work.session.execute(  # a new row version: no process keeps the good state cached
            update(Case)
            .where(Case.id == case_id)
            .values(workflow_state='{"damaged": ', row_version=Case.row_version + 1)
        )
    timer_id = None
    for _ in range(timers.MAX_ATTEMPTS):
        with rt.unit() as work:
            row = work.session.scalar(
                select(Timer).where(Timer.case_id == case_id, Timer.source == "bpmn")
            )
        assert row is not None and row.state == "waiting"
        timer_id = row.id
        if row.due_at > clock.now():
            clock.advance(row.due_at - clock.now())
        assert number not in timers.sweep(rt)
    assert timer_id is not None
    return number, state, timer_id


def make_failed(db_url: str, clock: ManualClock, smtp: Server) -> Failed:
    desk = make_desk(db_url, clock, max_bytes=2048)
    rt = desk.runtime
    number, state, timer_id = fail_a_timer(rt, clock)
    smtp.handler.refuse.add("gone@example.com")
    message = queue(rt, to="gone@example.com")
    assert send_due(rt.sessions, smtp.transport(), now=clock.now()) == (0, 1)
    big = desk.take(build("Message-ID: <big@x>", "Subject: Big scan", body="x" * 4000))
    assert big.state == "quarantined" and big.inbound_id is not None
    return Failed(desk, clock, smtp, number, state, timer_id, message.id, big.inbound_id)


@pytest.fixture
def smtp() -> Server:
    server = Server(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def failed(db_url: str, smtp: Server) -> Failed:
    world = make_failed(db_url, ManualClock(), smtp)
    yield world
    world.runtime.close()


def cli_for(db_url: str, tmp_path: Path, world: Failed) -> Cli:
    cli = Cli(db_url, tmp_path)
    # the operator's commands run at the moment the in-process clock shows
    cli.env["CASEWORK_CLOCK"] = world.clock.now().isoformat()
    cli.env["CASEWORK_MAIL_DOMAIN"] = "casework.example"
    return cli


def test_a_timer_that_keeps_failing_is_given_up_on_with_back_off_and_recorded(
    db_url: str, smtp: Server
):
    clock = ManualClock()
    desk = make_desk(db_url, clock)
    try:
        rt = desk.runtime
        started = clock.now()
        number, _, timer_id = fail_a_timer(rt, clock)
        with rt.unit() as work:
            row = work.session.get(Timer, timer_id)
            audit = work.session.scalars(
                select(AuditEntry).where(AuditEntry.action == "timer_failed")
            ).all()
        assert (row.state, row.attempts) == ("failed", timers.MAX_ATTEMPTS)
        assert row.last_error and row.last_error.startswith("JSONDecodeError")
        # the waits doubled from 5 minutes up to the 6-hour ceiling, not every sweep
        waits = [timers.backoff(n) for n in range(1, timers.MAX_ATTEMPTS)]
        assert waits[0] == timedelta(minutes=5) and waits[-1] == timers.MAX_BACKOFF
        assert clock.now() - started >= sum(waits, timedelta())
        assert [a.entity_id for a in audit] == [number]
        assert audit[0].after["timer"] == timer_id
        clock.advance(timedelta(days=2))
        assert timers.sweep(rt) == []  # given up: never tried again in silence
        with rt.unit() as work:
            assert work.session.get(Timer, timer_id).attempts == timers.MAX_ATTEMPTS
    finally:
        desk.runtime.close()


def test_an_operator_lists_retries_and_discards_failed_jobs(
    failed: Failed, db_url: str, tmp_path: Path
):
    cli = cli_for(db_url, tmp_path, failed)
    listed = cli.json("jobs", "failed")
    assert [row["id"] for row in listed] == [
        f"timer:{failed.timer}",
        f"outbox:{failed.outbox}",
        f"intake:{failed.intake}",
    ]
    timer, outbox, intake = listed
    assert timer["case"] == failed.number and timer["attempts"] == timers.MAX_ATTEMPTS
    assert timer["error"].startswith("JSONDecodeError") and "BPMN timer" in timer["what"]
    assert "gone@example.com" in outbox["what"] and "550" in outbox["error"]
    assert "too_large" in intake["error"] and "<big@x>" in intake["what"]
    assert [r["id"] for r in cli.json("jobs", "failed", "--kind", "outbox")] == [outbox["id"]]
    table = cli("jobs", "failed").stdout
    assert table.splitlines()[0].split() == ["ID", "CASE", "WHAT", "ATTEMPTS", "AT", "ERROR"]

    # the case's state is repaired; the timer goes back in line and fires on the next sweep
    rt = failed.runtime
    with rt.unit() as work:
        work.session.execute(
            update(Case)
            .where(Case.number == failed.number)
            .values(workflow_state=failed.state, row_version=Case.row_version + 1)
        )
    retried = cli("jobs", "retry", f"timer:{failed.timer}")
    assert retried.stdout.strip() == (
        f"timer:{failed.timer}: back in line (waiting) for the next worker sweep"
    )
    failed.clock.advance(timedelta(minutes=1))  # the command's clock ran on meanwhile
    assert timers.sweep(rt) == [failed.number]
    with rt.unit() as work:
        case_id = cases.case_by_number(work, failed.number).id
        overdue = work.session.scalars(
            select(HumanTask.element_id).where(HumanTask.case_id == case_id)
        ).all()
    assert "Task_ReviewOverdue" in overdue

    # the address works again: the mail goes with the next send
    failed.smtp.handler.refuse.clear()
    assert cli.json("jobs", "retry", f"outbox:{failed.outbox}")["state"] == "pending"
    assert send_due(rt.sessions, failed.smtp.transport(), now=failed.clock.now()) == (1, 0)
    assert [e.rcpt_tos for e in failed.smtp.handler.envelopes] == [["gone@example.com"]]

    # still too large: the retry says so and the message stays quarantined (exit 6) ...
    again = cli("jobs", "retry", f"intake:{failed.intake}", ok=False)
    assert again.returncode == 6 and "quarantined" in again.stdout and "too_large" in again.stdout
    # ... until the mailbox takes larger mail; then it opens its case
    with rt.unit() as work:
        work.session.execute(update(Mailbox).values(max_bytes=10_000_000))
    taken = cli.json("jobs", "retry", f"intake:{failed.intake}")
    assert taken["state"] == "processed" and taken["case"]
    assert cli.json("jobs", "failed") == []

    # every action is audited, by job
    with rt.unit() as work:
        audit = work.session.scalars(
            select(AuditEntry).where(AuditEntry.entity == "job").order_by(AuditEntry.id)
        ).all()
    assert [(a.entity_id, a.action) for a in audit] == [
        (f"timer:{failed.timer}", "job_retried"),
        (f"outbox:{failed.outbox}", "job_retried"),
        (f"intake:{failed.intake}", "job_retried"),  # quarantined again: the try is on record
        (f"intake:{failed.intake}", "job_retried"),
    ]


def test_discarding_keeps_the_row_and_refuses_everything_but_a_failed_job(
    failed: Failed, db_url: str, tmp_path: Path
):
    cli = cli_for(db_url, tmp_path, failed)
    for job in (f"timer:{failed.timer}", f"outbox:{failed.outbox}", f"intake:{failed.intake}"):
        assert (
            cli("jobs", "discard", job).stdout.strip() == f"{job}: discarded; it will not run again"
        )
    assert cli.json("jobs", "failed") == []
    rt = failed.runtime
    with rt.unit() as work:
        assert work.session.get(Timer, failed.timer).state == "discarded"
        assert work.session.get(OutboxMessage, failed.outbox).state == "discarded"
        kept = work.session.get(InboundMessage, failed.intake)
        assert kept.state == "discarded" and kept.raw.endswith(b"x" * 100)  # nothing is lost
    failed.clock.advance(timedelta(days=3))
    assert timers.sweep(rt) == []  # a discarded timer never fires

    twice = cli("jobs", "retry", f"timer:{failed.timer}", ok=False)
    assert (twice.returncode, twice.stderr.strip()) == (
        5,
        f"error: job timer:{failed.timer} is discarded, not failed; nothing to do",
    )
    missing = cli("--json", "jobs", "discard", "outbox:999999", ok=False)
    assert missing.returncode == 3 and '"no job outbox:999999"' in missing.stderr
    bad = cli("jobs", "retry", "12", ok=False)
    assert bad.returncode == 2 and "is not a job id: timer:ID, outbox:ID or intake:ID" in bad.stderr


def test_only_administrators_may_see_or_act_on_failed_jobs(
    failed: Failed, db_url: str, tmp_path: Path
):
    cli = cli_for(db_url, tmp_path, failed)
    with failed.runtime.unit() as work:
        from people import directory

        directory.add_user(work, username="root", password=None, is_admin=True)
    for args in (
        ("jobs", "failed", "--as", "alice"),
        ("jobs", "retry", f"timer:{failed.timer}", "--as", "alice"),
        ("jobs", "discard", f"timer:{failed.timer}", "--as", "alice"),
    ):
        refused = cli(*args, ok=False)
        assert refused.returncode == 4 and "only administrators may" in refused.stderr
    assert len(cli.json("jobs", "failed", "--as", "root")) == 3
    cli("jobs", "discard", f"timer:{failed.timer}", "--as", "root")
    with failed.runtime.unit() as work:
        entry = work.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "job_discarded")
        ).one()
        root = work.session.scalar(select(AuditEntry.actor_id).where(AuditEntry.id == entry.id))
    assert root is not None
