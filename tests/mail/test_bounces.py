"""Bounces as a user meets them: repeated hard failures suppress an address, soft ones are
sent again, a bounce of a case's mail is a note on that case, an operator can undo a
suppression.  On SQLite and PostgreSQL (``db_url``), with the real Dovecot and SMTP servers
where mail travels."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.run import posts
from engine.store.models import Case, StreamPost
from engine.store.outbox import BouncedAddress, OutboxMessage
from mail import bounces
from mail.imap import MailboxPoller
from mail.machine import SOFT_RETRIES
from mail.outbox import queue_notice
from mail.smtp import send_due
from people.directory import user_by_name
from tests.mail.dovecot import PASSWORD, Dovecot
from tests.mail.helpers import build
from tests.mail.test_cli import MailCli
from tests.mail.test_outbox import notice_context
from tests.mail.test_smtp import Server, smtp  # noqa: F401 - the aiosmtpd fixture
from tests.mail.world import DOMAIN, Desk, make_desk


def dsn(recipient: str, status: str, number: int = 1, original: str | None = None) -> bytes:
    """A delivery status notification as Postfix writes it (with the original's headers)."""
    returned = (
        f"--R\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {original}\r\n"
        "Subject: your case\r\n\r\n"
        if original
        else ""
    )
    return build(
        "From: Mail Delivery System <MAILER-DAEMON@mx.customer.example>",
        "To: support@casework.example",
        "Subject: Undelivered Mail Returned to Sender",
        "Auto-Submitted: auto-replied",
        f"Message-ID: <dsn-{number}@mx.customer.example>",
        'Content-Type: multipart/report; report-type=delivery-status; boundary="R"',
        body=(
            "--R\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you...\r\n"
            "--R\r\nContent-Type: message/delivery-status\r\n\r\n"
            "Reporting-MTA: dns; mx.customer.example\r\n\r\n"
            f"Final-Recipient: rfc822; {recipient}\r\n"
            f"Action: failed\r\nStatus: {status}\r\n"
            f"Diagnostic-Code: smtp; 550 {status} <{recipient}>: user unknown\r\n\r\n"
            f"{returned}--R--\r\n"
        ),
    )


def notice(desk: Desk, now: datetime, to: list[str], key: str) -> OutboxMessage | None:
    with desk.runtime.unit() as work:
        queued = queue_notice(
            work.session,
            case_id=None,
            kind="breach",
            recipients=to,
            sender="Support <support@casework.example>",
            context=notice_context(),
            dedupe_key=key,
            domain=DOMAIN,
            now=now,
            token="case00000001",
        )
        return queued


@pytest.fixture
def desk(db_url: str):
    made = make_desk(db_url)
    yield made
    made.runtime.close()


def suppressed(desk: Desk, address: str) -> bool:
    with desk.runtime.unit() as work:
        return bounces.deliverable(work.session, [address]) == []


def test_only_a_repeated_hard_failure_suppresses_an_address_and_clear_undoes_it(desk: Desk):
    outcome = desk.take(dsn("Gone@Customer.example", "5.1.1"))
    assert outcome.state == "ignored" and desk.cases() == 0  # a bounce never opens a case
    assert not suppressed(desk, "gone@customer.example")  # one 550 may be a mistake
    with desk.runtime.unit() as work:
        [row] = bounces.list_bounced(work.session)
        now = work.now
    assert (row.address, row.status, row.hard_bounces, row.soft_bounces) == (
        "gone@customer.example",
        "5.1.1",
        1,
        0,
    )
    desk.take(dsn("gone@customer.example", "5.1.1", number=2))  # it bounces again
    assert suppressed(desk, "gone@customer.example")

    mixed = notice(desk, now, ["Gone <gone@customer.example>", "lee@example.com"], "k1")
    assert mixed is not None and mixed.recipients == ["lee@example.com"]
    assert notice(desk, now, ["gone@customer.example"], "k2") is None
    assert desk.count(OutboxMessage) == 1  # nothing stored for a notice nobody can get

    with desk.runtime.unit() as work:
        assert work.session.get(BouncedAddress, "gone@customer.example").hard_bounces == 2
        assert bounces.clear(work.session, "GONE@customer.example")
        assert not bounces.clear(work.session, "gone@customer.example")
    again = notice(desk, now, ["gone@customer.example"], "k3")
    assert again is not None and again.recipients == ["gone@customer.example"]


@pytest.mark.parametrize("status", ["4.2.2", "5.2.2", "4.4.1"])
def test_soft_failures_never_suppress_an_address(desk: Desk, status: str):
    for n in range(4):
        assert desk.take(dsn("busy@customer.example", status, number=n)).state == "ignored"
    with desk.runtime.unit() as work:
        row = work.session.get(BouncedAddress, "busy@customer.example")
        assert (row.soft_bounces, row.hard_bounces, row.suppressed_at) == (4, 0, None)
    assert not suppressed(desk, "busy@customer.example")


def test_a_report_naming_no_usable_address_counts_nothing(desk: Desk):
    assert desk.take(dsn("not an address", "5.1.1", number=2)).state == "ignored"
    assert desk.take(dsn("x" * 400 + "@customer.example", "5.1.1", number=3)).state == "ignored"
    assert desk.count(BouncedAddress) == 0


def _answer(desk: Desk, customer: str) -> tuple[str, OutboxMessage]:
    """A customer's case and the agent's answer queued to them."""
    number = desk.take(build(f"From: {customer}", f"Message-ID: <{customer}>")).case_number
    assert number is not None
    with desk.runtime.unit() as work:
        posts.add_post(
            work, number=number, author=user_by_name(work, "alice"), body="Try this, please."
        )
        [answer] = work.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "case_reply")
        )
    return number, answer


def test_a_bounce_of_a_cases_mail_is_noted_on_it_and_a_soft_one_is_sent_again(desk: Desk):
    number, answer = _answer(desk, "carla@kunden.example")
    before = desk.case(number)
    result = desk.take(dsn("carla@kunden.example", "4.2.2", original=answer.message_id))
    assert (result.state, result.case_number) == ("ignored", number)
    note = desk.posts(number)[-1]
    assert note.internal and note.author_id is None  # agents see it, the customer does not
    assert "Delivery failure" in note.body and "carla@kunden.example: 4.2.2, soft" in note.body
    assert "sent again" in note.body
    after = desk.case(number)
    assert (after.status, desk.cases()) == (before.status, 1)  # no state change, no new case
    with desk.runtime.unit() as work:
        resent = work.session.scalars(
            select(OutboxMessage).where(OutboxMessage.dedupe_key.startswith("resend:"))
        ).all()
        assert [r.recipients for r in resent] == [["carla@kunden.example"]]
        assert resent[0].next_attempt_at > work.now  # later, not at once
        assert resent[0].headers["In-Reply-To"] == answer.headers["In-Reply-To"]
    # each retry that bounces softly again is retried, up to the limit
    last = resent[0]
    for n in range(SOFT_RETRIES + 1):
        desk.take(dsn("carla@kunden.example", "4.2.2", number=10 + n, original=last.message_id))
        with desk.runtime.unit() as work:
            last = work.session.scalars(
                select(OutboxMessage).order_by(OutboxMessage.id.desc())
            ).first()
    assert desk.count(OutboxMessage, OutboxMessage.dedupe_key.startswith("resend:")) == SOFT_RETRIES
    assert "given up" in desk.posts(number)[-1].body


def test_a_hard_bounce_of_a_cases_mail_is_noted_and_the_second_suppresses(desk: Desk):
    number, answer = _answer(desk, "dora@kunden.example")
    desk.take(dsn("dora@kunden.example", "5.1.1", original=answer.message_id))
    assert "hard failure 1 of 2" in desk.posts(number)[-1].body
    desk.take(dsn("dora@kunden.example", "5.1.1", number=2, original=answer.message_id))
    note = desk.posts(number)[-1].body
    assert "nothing more is sent there" in note and "mail bounces clear" in note
    assert desk.count(OutboxMessage, OutboxMessage.dedupe_key.startswith("resend:")) == 0
    assert desk.count(Case) == 1 and desk.count(StreamPost, StreamPost.author_id.is_(None)) == 2


def test_a_bounce_comes_back_through_the_real_servers_onto_its_case(
    db_url: str,
    dovecot: Dovecot,
    smtp: Server,  # noqa: F811
):
    user = dovecot.new_user()
    desk = make_desk(db_url, port=dovecot.port, tls=False, user=user, password=PASSWORD)
    try:
        dovecot.append(user, build("From: erin@kunden.example", "Message-ID: <e1@k>"))
        poller = MailboxPoller(desk.runtime, desk.mailbox_id, domain=DOMAIN)
        assert poller.poll_once().new == 1
        [number] = [c.number for c in _cases(desk)]
        with desk.runtime.unit() as work:
            posts.add_post(
                work, number=number, author=user_by_name(work, "alice"), body="Here you go."
            )
        send_due(desk.runtime.sessions, smtp.transport(), now=desk.runtime.clock.now())
        [sent] = smtp.handler.messages()
        dovecot.append(user, dsn("erin@kunden.example", "5.1.1", original=sent["Message-ID"]))
        assert poller.poll_once().new == 1
        poller.close()
        assert desk.cases() == 1
        assert "erin@kunden.example: 5.1.1, hard failure" in desk.posts(number)[-1].body
    finally:
        desk.runtime.close()


def _cases(desk: Desk) -> list[Case]:
    with desk.runtime.unit() as work:
        return list(work.session.scalars(select(Case)))


def test_an_operator_lists_and_clears_suppressed_addresses(db_url: str, tmp_path: Path):
    desk = make_desk(db_url)
    try:
        desk.take(dsn("gone@customer.example", "5.1.1"))
        desk.take(dsn("gone@customer.example", "5.1.1", number=2))
    finally:
        desk.runtime.close()
    cli = MailCli(db_url, tmp_path)
    [listed] = cli.json("mail", "bounces", "list")
    assert (listed["address"], listed["status"], listed["hard"], listed["suppressed"]) == (
        "gone@customer.example",
        "5.1.1",
        2,
        True,
    )
    assert "sent there again" in cli("mail", "bounces", "clear", "gone@customer.example").stdout
    assert cli.json("mail", "bounces", "list") == []
    refused = cli("mail", "bounces", "clear", "gone@customer.example", code=3)
    assert "no failures on record" in refused.stderr
