"""An SLA breach reaches the escalation group as mail through a real SMTP server."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from designer import deploy
from engine.clock import ManualClock
from engine.errors import DefinitionError
from engine.run import cases, posts, timers
from engine.sla import clocks as sla_clocks
from engine.store.models import Timer
from engine.store.outbox import OutboxMessage
from mail.settings import MailSettings
from mail.smtp import SmtpSettings, SmtpTransport, send_due
from people import directory
from tests.conftest import PROCESSES, seed_directory, support_toml, wired_app

SLA = """
[sla.calendar]
timezone = "Europe/Berlin"
hours = "24/7"
[sla.targets.first_response]
within = "PT1H"
warn_at = [0.75]
"""


class Inbox:
    def __init__(self) -> None:
        self.envelopes: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def smtp():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, inbox
    controller.stop()


def test_it_mails_a_warning_and_a_breach_to_the_escalation_group(db_url, tmp_path: Path, smtp):
    port, inbox = smtp
    clock = ManualClock()
    settings = MailSettings(domain="support.example", sender="support@support.example")
    rt = wired_app(db_url, clock, settings).runtime
    users = seed_directory(rt)
    with rt.unit() as work:
        for name in ("lee",):
            directory.user_by_name(work, name).email = f"{name}@example.com"
    config_path = tmp_path / "support.toml"
    config_path.write_text(support_toml() + SLA)
    config = deploy.resolve_config(PROCESSES / "support.bpmn", config_path, "SUPPORT")
    with rt.unit() as work:
        deploy.deploy(work, bpmn_path=PROCESSES / "support.bpmn", config=config)
    with rt.unit() as work:
        number = cases.open_case(
            work, case_type="SUPPORT", subject="<script>x</script> jam", raiser=users["carol"]
        ).number
    transport = SmtpTransport(SmtpSettings(host="127.0.0.1", port=port))
    clock.advance(timedelta(minutes=46))
    timers.sweep(rt)
    timers.sweep(rt)  # a second sweep queues nothing new
    assert send_due(rt.sessions, transport, now=clock.now()) == (1, 0)
    clock.advance(timedelta(minutes=15))
    timers.sweep(rt)
    assert send_due(rt.sessions, transport, now=clock.now()) == (1, 0)
    assert send_due(rt.sessions, transport, now=clock.now()) == (0, 0)
    rt.close()

    # each from its own VERP envelope sender, so a bounce names the notice and recipient
    assert [(frm, to) for frm, to, _ in inbox.envelopes] == [
        (f"support+bounce-{n}-lee=example.com@support.example", ["lee@example.com"]) for n in (1, 2)
    ]
    warning, breach = (message_from_bytes(raw) for _, _, raw in inbox.envelopes)
    assert number in warning["Subject"] and number in breach["Subject"]
    assert "75" in warning["Subject"] and "breach" in breach["Subject"].lower()
    for message in (warning, breach):
        assert message["Auto-Submitted"] == "auto-generated"
        assert message["X-Auto-Response-Suppress"] == "All"
        assert message["Message-ID"].endswith("@support.example>")
        html = next(p for p in message.walk() if p.get_content_type() == "text/html")
        assert "<script>" not in html.get_payload(decode=True).decode()
    assert warning["Message-ID"] != breach["Message-ID"]


def test_it_meets_first_response_and_restarts_next_update_when_an_agent_answers(
    db_url, tmp_path: Path
):
    clock = ManualClock()
    rt = wired_app(db_url, clock).runtime
    users = seed_directory(rt)
    config_path = tmp_path / "support.toml"
    config_path.write_text(
        support_toml()
        + """
[sla.calendar]
timezone = "UTC"
hours = "24/7"
[sla.targets.first_response]
within = "PT1H"
[sla.targets.next_update]
within = "PT2H"
"""
    )
    config = deploy.resolve_config(PROCESSES / "support.bpmn", config_path, "SUPPORT")
    with rt.unit() as work:
        deploy.deploy(work, bpmn_path=PROCESSES / "support.bpmn", config=config)
    with rt.unit() as work:
        number = cases.open_case(
            work, case_type="SUPPORT", subject="x", raiser=users["carol"]
        ).number
    clock.advance(timedelta(minutes=10))
    with rt.unit() as work:  # the customer's own message answers nothing
        posts.add_post(work, number=number, author=users["carol"], body="Any news?")
        posts.add_post(work, number=number, author=users["alice"], body="note", internal=True)

    def timers_now() -> list[tuple[str, int, str, timedelta]]:
        with rt.unit() as work:
            return sorted(
                (t.name, t.cycle, t.state, t.due_at - opened_at)
                for t in work.session.scalars(select(Timer).where(Timer.source == "sla"))
            )

    opened_at = clock.now() - timedelta(minutes=10)
    assert timers_now() == [
        ("first_response", 0, "waiting", timedelta(hours=1)),
        ("next_update", 0, "waiting", timedelta(hours=2)),
    ]
    with rt.unit() as work:
        posts.add_post(work, number=number, author=users["alice"], body="We are on it")
    assert timers_now() == [
        ("first_response", 0, "met", timedelta(hours=1)),
        ("next_update", 0, "cancelled", timedelta(hours=2)),
        ("next_update", 1, "waiting", timedelta(hours=2, minutes=10)),
    ]
    rt.close()


QUIET = """
[sla.calendar]
timezone = "UTC"
[sla.calendar.hours]
mon-fri = ["08:00-18:00"]
[sla.targets.resolution]
within = "PT9H"
[sla.pause]
roles = ["owner"]
[sla.notices]
quiet_hours = true
urgent_priorities = ["urgent"]
"""


def _quiet_runtime(db_url: str, tmp_path: Path, clock: ManualClock):
    rt = wired_app(db_url, clock).runtime
    users = seed_directory(rt)
    with rt.unit() as work:
        directory.user_by_name(work, "lee").email = "lee@example.com"
    config_path = tmp_path / "support.toml"
    config_path.write_text(support_toml() + QUIET)
    config = deploy.resolve_config(PROCESSES / "support.bpmn", config_path, "SUPPORT")
    with rt.unit() as work:
        deploy.deploy(work, bpmn_path=PROCESSES / "support.bpmn", config=config)
    return rt, users


def test_a_breach_outside_opening_hours_waits_for_the_next_morning_unless_urgent(
    db_url, tmp_path: Path
):
    clock = ManualClock()  # Monday 09:00 UTC
    rt, users = _quiet_runtime(db_url, tmp_path, clock)
    with rt.unit() as work:
        normal = cases.open_case(work, case_type="SUPPORT", subject="n", raiser=users["carol"])
        urgent = cases.open_case(
            work, case_type="SUPPORT", subject="u", raiser=users["carol"], priority="urgent"
        )
    clock.advance(timedelta(hours=9))  # Monday 18:00: breached at closing time
    timers.sweep(rt)
    with rt.unit() as work:
        held = {
            m.case_id: m.next_attempt_at
            for m in work.session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == "breach")
            )
        }
    assert held == {
        normal.id: datetime(2026, 1, 6, 8, 0, tzinfo=UTC),  # Tuesday's opening
        urgent.id: clock.now(),
    }
    rt.close()


def test_the_customers_answer_ends_a_wait_on_the_customer(db_url, tmp_path: Path):
    clock = ManualClock()
    rt, users = _quiet_runtime(db_url, tmp_path, clock)
    with rt.unit() as work:
        case = cases.open_case(work, case_type="SUPPORT", subject="x", raiser=users["carol"])
        sla_clocks.set_waiting(work, case.id, True, actor_id=users["alice"].id)
    clock.advance(timedelta(hours=2))
    with rt.unit() as work:  # an agent's note does not end the wait; the customer's mail does
        posts.add_post(work, number=case.number, author=users["alice"], body="ping", internal=True)
        assert sla_clocks.clocks(work, case.id).paused
        posts.add_post(work, number=case.number, author=users["carol"], body="Here it is")
        shown = sla_clocks.clocks(work, case.id)
    assert not shown.paused and not shown.waiting_on_customer
    # paused from the start: all 9 business hours run from 11:00, Mon 11-18 and Tue 08-10
    assert shown.targets[0].due_at == datetime(2026, 1, 6, 10, 0, tzinfo=UTC)
    rt.close()


def test_a_case_type_brings_its_own_breach_template_stored_with_its_version(db_url, tmp_path: Path):
    clock = ManualClock()
    rt = wired_app(db_url, clock).runtime
    users = seed_directory(rt)
    with rt.unit() as work:
        directory.user_by_name(work, "lee").email = "lee@example.com"
    (tmp_path / "mail").mkdir()
    (tmp_path / "mail" / "breach.subject.txt").write_text("ACME: {{ case_number }} is late")
    config_path = tmp_path / "support.toml"
    config_path.write_text(
        support_toml(SLA).replace('bpmn = "support.bpmn"', 'mail_templates = "mail"')
    )
    config = deploy.resolve_config(PROCESSES / "support.bpmn", config_path, "SUPPORT")
    with rt.unit() as work:
        deploy.deploy(work, bpmn_path=PROCESSES / "support.bpmn", config=config)
    (tmp_path / "mail" / "breach.subject.txt").unlink()  # the version keeps its own copy
    with rt.unit() as work:
        number = cases.open_case(
            work, case_type="SUPPORT", subject="x", raiser=users["carol"]
        ).number
    clock.advance(timedelta(hours=2))
    timers.sweep(rt)
    with rt.unit() as work:
        subjects = set(
            work.session.scalars(
                select(OutboxMessage.subject).where(OutboxMessage.kind == "breach")
            )
        )
    assert subjects == {f"ACME: {number} is late"}
    rt.close()


def test_a_broken_case_type_template_is_refused_at_deploy(tmp_path: Path):
    (tmp_path / "mail").mkdir()
    (tmp_path / "mail" / "breach.txt").write_text("line one\n{% if x %}never closed\n")
    config_path = tmp_path / "support.toml"
    config_path.write_text(
        support_toml().replace('bpmn = "support.bpmn"', 'mail_templates = "mail"')
    )
    with pytest.raises(DefinitionError) as refused:
        deploy.resolve_config(PROCESSES / "support.bpmn", config_path, "SUPPORT")
    (problem,) = refused.value.problems
    assert problem.file.endswith("breach.txt") and "template error" in problem.message
